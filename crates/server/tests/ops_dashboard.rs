//! The operations artefacts against the real server: every metric that the Grafana dashboard
//! (`deploy/grafana/omw-chat.json`), the Prometheus alert rules (`deploy/prometheus/alerts.yml`)
//! and the metrics table of `docs/operations.md` name is one that `/metrics` really shows, the
//! dashboard has the shape Grafana imports, and every alert has its runbook section.
//!
//! The server registers its metrics at start (`http::metrics::catalogue`), so one scrape of a
//! fresh server lists them all; the Redis ones need `REDIS_URL`, so they are checked when
//! `OMW_TEST_REDIS_URL` is set (always in CI).

mod common;

use std::{
    collections::{BTreeMap, BTreeSet, HashSet},
    path::{Path, PathBuf},
    sync::Arc,
};

use common::TestServer;
use omw_testkit::{Kind, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Prometheus' own series: present for every scraped target without the target exporting it.
const PROMETHEUS_SERIES: &[&str] = &["up"];

/// Names of the samples in a Prometheus text exposition (`name{labels} value` or `name value`),
/// so a histogram contributes `x_bucket`, `x_sum` and `x_count`, never `x` alone.
fn exposed_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect()
}

/// `# TYPE name kind` lines.
fn exposed_types(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, k)| (n.to_string(), k.trim().to_string()))
        .collect()
}

/// The values of label `label` in an exposition.
fn label_values(text: &str, label: &str) -> BTreeSet<String> {
    let key = format!("{label}=\"");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(key.as_str()))
        .filter_map(|(_, rest)| rest.split_once('"'))
        .map(|(v, _)| v.to_string())
        .collect()
}

/// The values of the equality matchers `label="…"` in a PromQL expression.
fn matchers<'a>(expr: &'a str, label: &str) -> Vec<&'a str> {
    let key = format!("{label}=\"");
    expr.match_indices(key.as_str())
        // Not `other_label="…"`.
        .filter(|(i, _)| {
            expr[..*i]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
        })
        .filter_map(|(i, k)| expr[i + k.len()..].split_once('"'))
        .map(|(v, _)| v)
        .collect()
}

/// PromQL words that are not metric names when they stand alone (not followed by `(`):
/// operators, modifiers (and [`GROUPING`]), and the aggregations, which `sum by (le) (…)`
/// separates from their parenthesis.
const KEYWORDS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
];

/// The modifiers that take a list of label names, `by (…)` and the like: keywords too.
const GROUPING: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The metric names a PromQL expression selects. Strings (label values, which may hold `{`),
/// label matchers, ranges and numbers (durations too) go first; what is left is functions (a
/// word before `(`), keywords, grouping labels and metric names.
fn metric_names(expr: &str) -> BTreeSet<String> {
    // 1. Drop string literals, honouring escapes.
    let mut plain = String::new();
    let mut quote = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    plain.push_str("\"\"");
                }
            }
            None if c == '"' || c == '\'' || c == '`' => quote = Some(c),
            None => plain.push(c),
        }
    }
    // 2. Drop `{…}` matchers and `[…]` ranges (no nesting once strings are gone).
    let mut bare = String::new();
    let mut close = None;
    for c in plain.chars() {
        match (close, c) {
            (Some(end), c) if c == end => close = None,
            (Some(_), _) => {}
            (None, '{') => close = Some('}'),
            (None, '[') => close = Some(']'),
            (None, c) => bare.push(c),
        }
    }
    // 3. Words, each with whether a `(` follows it.
    let chars: Vec<char> = bare.chars().collect();
    let mut words: Vec<(String, bool)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_:".contains(chars[i])) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            words.push((word, chars.get(j) == Some(&'(')));
        } else if c.is_ascii_digit() || c == '.' {
            // A number or a duration (`1e-9`, `0.99`, `1h`): skip it whole.
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            // `1e-9`: the exponent's sign and digits.
            if i < chars.len() && chars[i] == '-' && chars[i - 1] == 'e' {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    // 4. What is neither a function, a keyword nor a label of a grouping clause
    //    (`by (le, route)`) is a metric. A label that is also a metric's name would be missed;
    //    no label here is.
    let grouped = grouping_labels(&bare);
    words
        .into_iter()
        .filter(|(word, call)| {
            let lower = word.to_ascii_lowercase();
            !call
                && !KEYWORDS.contains(&lower.as_str())
                && !GROUPING.contains(&lower.as_str())
                && !grouped.contains(word)
        })
        .map(|(word, _)| word)
        .collect()
}

/// Label names inside `by (…)`, `without (…)`, `on (…)`, `ignoring (…)`, `group_left (…)`,
/// `group_right (…)`.
fn grouping_labels(bare: &str) -> HashSet<String> {
    let mut labels = HashSet::new();
    let mut rest = bare;
    loop {
        let found = GROUPING
            .iter()
            .filter_map(|kw| find_word(rest, kw).map(|i| (i, kw.len())))
            .min();
        let Some((at, len)) = found else { break };
        let after = rest[at + len..].trim_start();
        if let Some(list) = after.strip_prefix('(')
            && let Some(end) = list.find(')')
        {
            labels.extend(
                list[..end]
                    .split(',')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            );
        }
        rest = &rest[at + len..];
    }
    labels
}

/// Where `word` stands alone in `s`.
fn find_word(s: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut from = 0;
    while let Some(i) = s[from..].find(word).map(|i| i + from) {
        let before = s[..i].chars().next_back().is_none_or(|c| !is_ident(c));
        let after = s[i + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !is_ident(c));
        if before && after {
            return Some(i);
        }
        from = i + word.len();
    }
    None
}

#[test]
fn promql_names_are_extracted() {
    let names = |e: &str| metric_names(e).into_iter().collect::<Vec<_>>();
    assert_eq!(
        names(
            r#"histogram_quantile(0.99, sum by (le, route) (rate(omw_http_request_seconds_bucket{job=~"$job", route="/api/v1/chats/{chat_id}/attachments"}[$__rate_interval])))"#
        ),
        ["omw_http_request_seconds_bucket"]
    );
    assert_eq!(
        names(
            r#"sum(rate(a_total{s=~"5.."}[5m])) / clamp_min(sum(rate(a_total[5m])), 1e-9) > 0.05 and sum by (job) (rate(b_total[5m])) > 0.1"#
        ),
        ["a_total", "b_total"]
    );
    assert_eq!(
        names(r#"x == 0 and max_over_time(x[1h] offset 15m) >= 10 unless on (instance) y"#),
        ["x", "y"]
    );
    assert_eq!(
        names(r#"sum(rate(c[5m])) by (code) > 3 * sum without (cap) (rate(c[1h] offset 1h))"#),
        ["c"]
    );
    assert_eq!(
        names("time() - process_start_time_seconds"),
        ["process_start_time_seconds"]
    );
    assert_eq!(
        names(r#"count by (job) (count by (job, version) (info))"#),
        ["info"]
    );
}

/// Every `expr` of a dashboard panel (rows hold no queries while expanded; collapsed rows
/// carry theirs in `panels`), with where it is.
fn dashboard_queries(dash: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut panels: Vec<&Value> = Vec::new();
    for p in dash["panels"].as_array().expect("panels") {
        panels.push(p);
        if let Some(inner) = p["panels"].as_array() {
            panels.extend(inner);
        }
    }
    for p in panels {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = t["expr"].as_str() {
                let at = format!(
                    "panel {} \"{}\" target {}",
                    p["id"],
                    p["title"].as_str().unwrap_or(""),
                    t["refId"].as_str().unwrap_or("?")
                );
                out.push((at, expr.to_string()));
            }
        }
    }
    for v in dash["templating"]["list"].as_array().into_iter().flatten() {
        let q = match &v["query"] {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("query").and_then(Value::as_str),
            _ => None,
        };
        if v["type"] == "query"
            && let Some(q) = q
        {
            // `label_values(selector, label)`: the selector is PromQL, the label is not.
            let selector = q
                .strip_prefix("label_values(")
                .and_then(|r| r.rsplit_once(','))
                .map_or(q, |(sel, _)| sel);
            out.push((format!("variable ${}", v["name"]), selector.to_string()));
        }
    }
    out
}

fn assert_dashboard_shape(dash: &Value) {
    for key in [
        "uid",
        "title",
        "schemaVersion",
        "panels",
        "templating",
        "time",
    ] {
        assert!(!dash[key].is_null(), "dashboard has no {key}");
    }
    let vars = dash["templating"]["list"]
        .as_array()
        .expect("templating.list");
    let ds = vars
        .iter()
        .find(|v| v["name"] == "datasource")
        .expect("a datasource variable");
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");

    let mut ids = HashSet::new();
    let mut all: Vec<&Value> = Vec::new();
    for p in dash["panels"].as_array().unwrap() {
        all.push(p);
        all.extend(p["panels"].as_array().into_iter().flatten());
    }
    for p in all {
        let id = p["id"].as_u64().expect("every panel has a numeric id");
        assert!(ids.insert(id), "panel id {id} is used twice");
        let title = p["title"].as_str().unwrap_or("");
        assert!(!title.is_empty(), "panel {id} has no title");
        for k in ["h", "w", "x", "y"] {
            assert!(
                p["gridPos"][k].is_u64(),
                "panel {id} \"{title}\": gridPos.{k}"
            );
        }
        let (x, w) = (
            p["gridPos"]["x"].as_u64().unwrap(),
            p["gridPos"]["w"].as_u64().unwrap(),
        );
        assert!(x + w <= 24, "panel {id} \"{title}\" is wider than the grid");
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(
            p["datasource"]["uid"], "${datasource}",
            "panel {id} \"{title}\" must use the datasource variable"
        );
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {id} \"{title}\" has no query");
        let mut refs = HashSet::new();
        for t in targets {
            let r = t["refId"].as_str().expect("refId");
            assert!(refs.insert(r), "panel {id} \"{title}\": refId {r} twice");
            assert!(
                t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()),
                "panel {id} \"{title}\" target {r} has no expr"
            );
            assert_eq!(
                t["datasource"]["uid"], "${datasource}",
                "panel {id} \"{title}\" target {r} must use the datasource variable"
            );
        }
    }
}

/// Every rule of every group, as (alert name, rule).
fn alert_rules(doc: &serde_yaml::Value) -> Vec<(String, &serde_yaml::Value)> {
    let groups = doc["groups"].as_sequence().expect("groups");
    let mut out = Vec::new();
    for g in groups {
        for r in g["rules"].as_sequence().expect("rules") {
            let name = r["alert"]
                .as_str()
                .or(r["record"].as_str())
                .expect("alert or record")
                .to_string();
            out.push((name, r));
        }
    }
    out
}

/// Anchors of the `###` headings of a Markdown file, as GitHub makes them.
fn anchors(markdown: &str) -> HashSet<String> {
    markdown
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| l.trim_start_matches('#').trim())
        .map(|h| {
            h.to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

/// Metric names in the first column of the docs' metrics tables: `| \`name\` | …`.
fn documented_metrics(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(name, _)| name.to_string())
        .filter(|n| n.starts_with("omw_") || n.starts_with("process_"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_alerts_and_docs_name_only_exposed_metrics() {
    let started = std::time::Instant::now();
    let db = Arc::new(TestDb::create(Kind::Sqlite).await.expect("sqlite"));
    let redis = omw_testkit::redis_url();
    let prefix = omw_testkit::redis_prefix();
    let mut env = Vec::new();
    if let Some(url) = &redis {
        env.push(("REDIS_URL", url.as_str()));
        env.push(("REDIS_PREFIX", prefix.as_str()));
    }
    let s = TestServer::start_with(db, &env).await;

    // Requests through the router, so the per-route HTTP series exist as they do on any node
    // a load balancer probes, and the routes the queries name show up (refused, unsigned).
    let (st, _) = s.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(st, StatusCode::OK);
    for (method, path) in [
        (Method::POST, "/api/v1/chats/c1/attachments"),
        (Method::GET, "/api/v1/attachments/a1"),
    ] {
        let (st, _) = s.call(method, path, None, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{path}");
    }
    let text = s.metrics().await;
    s.stop().await;

    let exposed = exposed_names(&text);
    let types = exposed_types(&text);
    let catalogue = omw_chat::http::metrics::catalogue::ALL;
    // Without Redis the server does not record the Redis metrics; only then they may be absent.
    let redis_only: HashSet<&str> = if redis.is_some() {
        HashSet::new()
    } else {
        catalogue
            .iter()
            .filter(|m| m.redis)
            .map(|m| m.name)
            .collect()
    };
    let known = |name: &str| {
        exposed.contains(name)
            || PROMETHEUS_SERIES.contains(&name)
            || ["", "_bucket", "_sum", "_count"].iter().any(|suffix| {
                name.strip_suffix(suffix)
                    .is_some_and(|base| redis_only.contains(base))
            })
    };

    // The catalogue is what the server exposes: each entry, with the type it says.
    for m in catalogue.iter().filter(|m| !redis_only.contains(m.name)) {
        use omw_chat::http::metrics::catalogue::Kind as K;
        let want = match m.kind {
            K::Counter => "counter",
            K::Gauge => "gauge",
            K::Histogram => "histogram",
        };
        assert_eq!(
            types.get(m.name).map(String::as_str),
            Some(want),
            "{} is in the catalogue as a {want} but /metrics shows {:?}\n{text}",
            m.name,
            types.get(m.name)
        );
    }

    let mut missing = Vec::new();
    // A `route="…"` matcher must name a route pattern the server reports.
    let routes = label_values(&text, "route");
    let unknown_routes = |at: &str, expr: &str| -> Vec<String> {
        matchers(expr, "route")
            .into_iter()
            .filter(|r| !routes.contains(*r))
            .map(|r| format!("{at}: route=\"{r}\" (routes seen: {routes:?})"))
            .collect()
    };

    let dash: Value = serde_json::from_str(&read("deploy/grafana/omw-chat.json"))
        .expect("deploy/grafana/omw-chat.json is JSON");
    assert_dashboard_shape(&dash);
    let queries = dashboard_queries(&dash);
    assert!(
        queries.len() > 40,
        "only {} dashboard queries",
        queries.len()
    );
    for (at, expr) in &queries {
        missing.extend(unknown_routes(&format!("dashboard {at}"), expr));
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{at}: no metric in {expr}");
        for n in names.iter().filter(|n| !known(n)) {
            missing.push(format!("dashboard {at}: `{n}` in {expr}"));
        }
        // A histogram is queried through its buckets, sum or count, never by its bare name.
        for n in &names {
            assert!(
                types.get(n.as_str()).is_none_or(|t| t != "histogram"),
                "dashboard {at}: histogram `{n}` without _bucket/_sum/_count"
            );
        }
    }

    let ops = read("docs/operations.md");
    let runbooks = anchors(&ops);
    let rules: serde_yaml::Value = serde_yaml::from_str(&read("deploy/prometheus/alerts.yml"))
        .expect("deploy/prometheus/alerts.yml is YAML");
    let rules = alert_rules(&rules);
    assert!(rules.len() >= 10, "only {} alert rules", rules.len());
    let mut alert_names = HashSet::new();
    for (name, rule) in &rules {
        assert!(alert_names.insert(name.clone()), "alert {name} twice");
        let expr = rule["expr"].as_str().expect("expr");
        missing.extend(unknown_routes(&format!("alert {name}"), expr));
        let names = metric_names(expr);
        assert!(!names.is_empty(), "alert {name}: no metric in {expr}");
        for n in names.iter().filter(|n| !known(n)) {
            missing.push(format!("alert {name}: `{n}` in {expr}"));
        }
        assert!(
            ["critical", "warning", "info"]
                .contains(&rule["labels"]["severity"].as_str().unwrap_or("")),
            "alert {name}: severity label"
        );
        for key in ["summary", "description", "runbook"] {
            assert!(
                rule["annotations"][key]
                    .as_str()
                    .is_some_and(|v| !v.is_empty()),
                "alert {name}: no {key} annotation"
            );
        }
        let runbook = rule["annotations"]["runbook"].as_str().unwrap();
        let anchor = runbook
            .strip_prefix("docs/operations.md#")
            .unwrap_or_else(|| {
                panic!("alert {name}: runbook {runbook} is not docs/operations.md#…")
            });
        assert!(
            runbooks.contains(anchor),
            "alert {name}: docs/operations.md has no section #{anchor}"
        );
    }

    // The docs' metrics table lists exactly what the server exposes (Redis ones included).
    // A histogram is documented by its own name, which only its `# TYPE` line carries.
    let documented = documented_metrics(&ops);
    for n in documented
        .iter()
        .filter(|n| !types.contains_key(*n) && !redis_only.contains(n.as_str()))
    {
        missing.push(format!("docs/operations.md metrics table: `{n}`"));
    }
    let undocumented: Vec<&String> = types
        .keys()
        .filter(|n| n.starts_with("omw_") || n.starts_with("process_"))
        .filter(|n| !documented.contains(*n))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/operations.md does not document {undocumented:?}"
    );

    assert!(
        missing.is_empty(),
        "metrics the server does not expose:\n  {}\n/metrics lists: {:?}",
        missing.join("\n  "),
        exposed
    );
    eprintln!(
        "{} dashboard queries, {} alert rules, {} documented metrics checked in {:?}",
        queries.len(),
        rules.len(),
        documented.len(),
        started.elapsed()
    );
}
