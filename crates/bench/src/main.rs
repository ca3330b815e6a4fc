//! omw-chat-bench: load generator and benchmark scenarios for omw-chat.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, BufReader};

use omw_chat_bench::pairs::{self, Mode, PairsConfig, PairsReport};
use omw_chat_bench::scenarios::{self, IdleConfig, MaxConfig, MaxReport, StormConfig};
use omw_chat_bench::setup::{Target, raise_nofile_limit};

/// Load generator for omw-chat: Socket.IO v5 over raw WebSocket against any server URL.
///
/// Each run prints a human summary on stderr and one JSON line on stdout (also appended to
/// `--json FILE`). The tool raises its open-files soft limit to the hard limit at start; N sockets
/// need about N + 64 descriptors here (and N on the server): check `ulimit -Hn`.
#[derive(Parser, Debug)]
#[command(name = "omw-chat-bench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// N customer/worker pairs chatting at a paced rate; ack and delivery latency, then every
    /// chat's history is verified (each acked client_id stored exactly once).
    Pairs(PairsCmd),
    /// A pairs run where clients are dropped at random and reconnect, catching up with
    /// load_messages {after_seq}: every acked message must reach its counterpart exactly once.
    Reconnect(ReconnectCmd),
    /// Raise the offered rate step by step until p99 delivery latency passes the limit.
    Max(MaxCmd),
    /// N authenticated sockets joined to their chats; server RSS per socket.
    Idle(IdleCmd),
    /// N clients connecting, authenticating and joining at once; time until all joined.
    Storm(StormCmd),
    /// A minimal raw WebSocket echo server (the baseline for `pairs --echo-url`).
    EchoServer(EchoServerCmd),
    /// Re-draw the latency-vs-rate PNG from a `max` JSON line.
    Plot(PlotCmd),
}

#[derive(Args, Debug, Clone)]
struct TargetArgs {
    /// Server base URL.
    #[arg(long, env = "OMW_BENCH_URL", default_value = "http://127.0.0.1:5001")]
    url: String,
    /// Workers connect here instead (another node: customers on one, workers on the other,
    /// so every message crosses nodes through Redis).
    #[arg(long, env = "OMW_BENCH_WORKER_URL")]
    worker_url: Option<String>,
    /// The server's PLATFORM_API_KEY (bookings are created through the platform API).
    #[arg(long, env = "OMW_BENCH_PLATFORM_KEY", default_value = "")]
    platform_key: String,
    /// The server's JWT_SECRET (HS256 user tokens are minted with it).
    #[arg(long, env = "OMW_BENCH_JWT_SECRET", default_value = "")]
    jwt_secret: String,
    /// Free-form label put into the JSON line (e.g. sqlite, mariadb, postgres).
    #[arg(long, default_value = "")]
    label: String,
    /// Append the JSON line to this file as well.
    #[arg(long)]
    json: Option<PathBuf>,
}

impl TargetArgs {
    fn target(&self) -> Result<Target> {
        if self.platform_key.is_empty() || self.jwt_secret.is_empty() {
            bail!("--platform-key and --jwt-secret (or their env vars) are required");
        }
        Ok(Target {
            url: self.url.clone(),
            worker_url: self.worker_url.clone(),
            platform_key: self.platform_key.clone(),
            jwt_secret: self.jwt_secret.clone(),
        })
    }
}

#[derive(Args, Debug, Clone)]
struct LoadArgs {
    /// Customer/worker pairs (two sockets each, one booking chat per pair).
    #[arg(long, default_value_t = 500)]
    pairs: usize,
    /// Messages per second per client (both sides send); 0 = unpaced, as fast as --window allows.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Measured duration in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Most unacknowledged messages per client.
    #[arg(long, default_value_t = 64)]
    window: usize,
    /// Text body length in bytes (≥ 14: a timestamp is embedded).
    #[arg(long, default_value_t = 64)]
    body_len: usize,
    /// Seconds to wait at most after the run for outstanding acks and deliveries.
    #[arg(long, default_value_t = 15.0)]
    drain: f64,
    /// Sockets connecting at a time during setup.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Skip the final history check.
    #[arg(long)]
    no_verify: bool,
    /// PID of a local server: report its VmRSS before/after.
    #[arg(long)]
    server_pid: Option<u32>,
}

impl LoadArgs {
    fn config(&self, label: &str) -> PairsConfig {
        PairsConfig {
            pairs: self.pairs,
            rate: self.rate,
            duration: Duration::from_secs_f64(self.duration),
            window: self.window,
            body_len: self.body_len.max(14),
            drain: Duration::from_secs_f64(self.drain),
            connect_concurrency: self.connect_concurrency,
            verify: !self.no_verify,
            server_pid: self.server_pid,
            label: label.to_string(),
            ..PairsConfig::default()
        }
    }
}

#[derive(Args, Debug)]
struct PairsCmd {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    load: LoadArgs,
    /// Echo mode: drive a raw WebSocket echo server at this ws:// URL with the same frames
    /// (no platform key or secret needed); counts echoes instead of acks.
    #[arg(long)]
    echo_url: Option<String>,
    /// After the chat run, start `echo-server` as a child process and run the same load
    /// unpaced against it; reports pairs acked/s ÷ echo msgs/s.
    #[arg(long)]
    baseline: bool,
}

#[derive(Args, Debug)]
struct ReconnectCmd {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    load: LoadArgs,
    /// Random disconnects during the run (random client, random time in the middle 80 %).
    #[arg(long, default_value_t = 100)]
    drops: usize,
    /// Milliseconds a dropped client stays away before reconnecting.
    #[arg(long, default_value_t = 300)]
    down_ms: u64,
}

#[derive(Args, Debug)]
struct MaxCmd {
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    load: LoadArgs,
    /// First step's messages/s per client.
    #[arg(long, default_value_t = 2.0)]
    start_rate: f64,
    /// Each step multiplies the rate by this.
    #[arg(long, default_value_t = 1.5)]
    factor: f64,
    /// At most this many steps.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// A step is held while p99 delivery latency stays at or under this (and nothing is lost).
    #[arg(long, default_value_t = 50.0)]
    p99_limit_ms: f64,
    /// Write a PNG of delivery latency percentiles vs offered rate here.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Run against a raw WebSocket echo server at this ws:// URL instead.
    #[arg(long)]
    echo_url: Option<String>,
}

#[derive(Args, Debug)]
struct IdleCmd {
    #[command(flatten)]
    target: TargetArgs,
    /// Authenticated sockets, each joined to its booking chat.
    #[arg(long, default_value_t = 10_000)]
    sockets: usize,
    /// Sockets connecting at a time.
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
    /// Seconds to wait after the last join before reading RSS.
    #[arg(long, default_value_t = 3.0)]
    settle: f64,
    /// Seconds to keep the sockets open after the measurement.
    #[arg(long, default_value_t = 0.0)]
    hold: f64,
    /// PID of the local server whose VmRSS is read (/proc/PID/status).
    #[arg(long)]
    server_pid: Option<u32>,
}

#[derive(Args, Debug)]
struct StormCmd {
    #[command(flatten)]
    target: TargetArgs,
    /// Clients connecting, authenticating and joining at the same moment.
    #[arg(long, default_value_t = 5000)]
    clients: usize,
    /// Seconds each client may take at most.
    #[arg(long, default_value_t = 30.0)]
    timeout: f64,
}

#[derive(Args, Debug)]
struct EchoServerCmd {
    /// Address to listen on (port 0: any free port). Prints `echo listening on ws://ADDR`.
    #[arg(long, default_value = "127.0.0.1:9001")]
    listen: String,
    /// Exit after this many seconds (0 = run until killed).
    #[arg(long, default_value_t = 0.0)]
    exit_after: f64,
}

#[derive(Args, Debug)]
struct PlotCmd {
    /// A file with `max` JSON lines (the last one with "scenario":"max" is drawn).
    #[arg(long)]
    input: PathBuf,
    /// PNG to write.
    #[arg(long)]
    out: PathBuf,
    /// Only use a max line with this label.
    #[arg(long)]
    label: Option<String>,
}

fn emit<T: Serialize>(value: &T, file: &Option<PathBuf>) -> Result<()> {
    let line = serde_json::to_string(value)?;
    println!("{line}");
    if let Some(path) = file {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("open {}", path.display()))?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct WithBaseline<'a> {
    #[serde(flatten)]
    run: &'a PairsReport,
    echo_baseline: &'a PairsReport,
    /// pairs acked msgs/s ÷ echo msgs/s.
    echo_ratio: f64,
}

/// Start `echo-server` as a child process; returns it and its ws:// URL.
async fn spawn_echo_child() -> Result<(tokio::process::Child, String)> {
    let exe = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(exe)
        .args([
            "echo-server",
            "--listen",
            "127.0.0.1:0",
            "--exit-after",
            "600",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let out = child.stdout.take().context("echo stdout")?;
    let mut lines = BufReader::new(out).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .context("echo server did not start")??
        .context("echo server exited")?;
    let url = line
        .strip_prefix("echo listening on ")
        .context("unexpected echo server output")?
        .to_string();
    Ok((child, url))
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let (soft, hard) = raise_nofile_limit();
    match cli.cmd {
        Cmd::Pairs(c) => {
            let cfg = c.load.config(&c.target.label);
            check_fds(2 * cfg.pairs, soft, hard);
            let mode = match &c.echo_url {
                Some(u) => Mode::Echo(u.clone()),
                None => Mode::Chat(c.target.target()?),
            };
            let rep = pairs::run(&cfg, &mode).await?;
            eprintln!("{}", rep.summary());
            if c.baseline {
                let (mut child, url) = spawn_echo_child().await?;
                let mut ecfg = cfg.clone();
                ecfg.rate = 0.0;
                ecfg.server_pid = child.id();
                let echo = pairs::run(&ecfg, &Mode::Echo(url)).await;
                let _ = child.kill().await;
                let echo = echo?;
                eprintln!("{}", echo.summary());
                let ratio = rep.acked_per_s / echo.acked_per_s.max(1e-9);
                eprintln!(
                    "echo ratio: {:.0} acked msg/s ÷ {:.0} echo msg/s = {:.3}",
                    rep.acked_per_s, echo.acked_per_s, ratio
                );
                emit(
                    &WithBaseline {
                        run: &rep,
                        echo_baseline: &echo,
                        echo_ratio: ratio,
                    },
                    &c.target.json,
                )?;
            } else {
                emit(&rep, &c.target.json)?;
            }
            if !rep.ok() {
                std::process::exit(2);
            }
        }
        Cmd::Reconnect(c) => {
            let mut cfg = c.load.config(&c.target.label);
            cfg.drops = c.drops;
            cfg.down = Duration::from_millis(c.down_ms);
            check_fds(2 * cfg.pairs, soft, hard);
            let rep = pairs::run(&cfg, &Mode::Chat(c.target.target()?)).await?;
            eprintln!("{}", rep.summary());
            emit(&rep, &c.target.json)?;
            if !rep.ok() {
                std::process::exit(2);
            }
        }
        Cmd::Max(c) => {
            let cfg = MaxConfig {
                base: c.load.config(&c.target.label),
                start_rate: c.start_rate,
                factor: c.factor,
                max_steps: c.steps,
                p99_limit_ms: c.p99_limit_ms,
                plot: c.plot.clone(),
            };
            check_fds(2 * cfg.base.pairs, soft, hard);
            let mode = match &c.echo_url {
                Some(u) => Mode::Echo(u.clone()),
                None => Mode::Chat(c.target.target()?),
            };
            let rep = scenarios::max(&mode, &cfg).await?;
            if let Some(p) = &cfg.plot {
                omw_chat_bench::plot::latency_vs_rate(p, &rep)?;
                eprintln!("plot written to {}", p.display());
            }
            eprintln!("{}", rep.summary());
            emit(&rep, &c.target.json)?;
        }
        Cmd::Idle(c) => {
            check_fds(c.sockets, soft, hard);
            let cfg = IdleConfig {
                sockets: c.sockets,
                connect_concurrency: c.connect_concurrency,
                settle: Duration::from_secs_f64(c.settle),
                hold: Duration::from_secs_f64(c.hold),
                server_pid: c.server_pid,
                label: c.target.label.clone(),
            };
            let rep = scenarios::idle(&c.target.target()?, &cfg).await?;
            eprintln!("{}", rep.summary());
            emit(&rep, &c.target.json)?;
        }
        Cmd::Storm(c) => {
            check_fds(c.clients, soft, hard);
            let cfg = StormConfig {
                clients: c.clients,
                timeout: Duration::from_secs_f64(c.timeout),
                label: c.target.label.clone(),
            };
            let rep = scenarios::storm(&c.target.target()?, &cfg).await?;
            eprintln!("{}", rep.summary());
            emit(&rep, &c.target.json)?;
        }
        Cmd::EchoServer(c) => {
            let addr = omw_chat_bench::echo::spawn(&c.listen).await?;
            println!("echo listening on ws://{addr}");
            if c.exit_after > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(c.exit_after)).await;
            } else {
                std::future::pending::<()>().await;
            }
        }
        Cmd::Plot(c) => {
            let text = std::fs::read_to_string(&c.input)
                .with_context(|| format!("read {}", c.input.display()))?;
            let rep = text
                .lines()
                .filter_map(|l| serde_json::from_str::<MaxReport>(l).ok())
                .filter(|r| r.scenario == "max")
                .rfind(|r| c.label.as_ref().is_none_or(|l| &r.label == l))
                .context("no max line in the input")?;
            omw_chat_bench::plot::latency_vs_rate(&c.out, &rep)?;
            eprintln!("plot written to {}", c.out.display());
        }
    }
    Ok(())
}

fn check_fds(sockets: usize, soft: u64, hard: u64) {
    if (sockets as u64) + 64 > soft {
        eprintln!(
            "warning: {sockets} sockets need about {} open files; the limit is {soft} (hard {hard}). Raise it with `ulimit -n`.",
            sockets + 64
        );
    }
}
