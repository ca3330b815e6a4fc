//! The module import graph inside one crate, and the two rules CI holds it to.
//!
//! [`load`] reads a crate's sources from `src/lib.rs` (and `src/main.rs`, as a module `main`
//! beside the library's), follows its `mod` declarations and records every reference to a
//! module of the crate: the paths of `use` items and of code (expressions, types, patterns,
//! macro bodies) that start with `crate::`, `self::`, `super::`, a child module's name, or, in
//! the binary, the library's name. Each reference becomes an [`Edge`] between two file-level
//! modules (`http`, `http::chats`, `service::uploads`); inline modules (`mod tests { … }`)
//! count as part of their file.
//!
//! [`check`] then reports:
//! - a **cycle between siblings**: two or more modules of one parent (the crate's top-level
//!   modules, or the files of one folder) that import each other, directly or around a ring;
//!   an import between a module and its own parent or child is not a sibling import;
//! - an **upward import**: a top-level module importing from a top-level module of a layer
//!   above its own, given the crate's layers (top first). Imports within a layer are allowed
//!   (the cycle rule still applies); a top-level module in no layer is an error too, so a new
//!   module has to be placed.
//!
//! What it does not see: a name brought in by a `use` and then used bare (the `use` itself is
//! the recorded edge), items reached through a re-export count as imports of the re-exporting
//! module, and `#[cfg]` is ignored (test code counts like any other code).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// A module's path inside its crate: `["service", "uploads"]`; the crate root is `[]`.
pub type ModPath = Vec<String>;

/// Where the sources come from: the disk, or a map of file names to texts (the unit tests).
pub trait Sources {
    fn read(&self, path: &Path) -> Option<String>;
}

/// The files on disk.
pub struct Disk;

impl Sources for Disk {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

impl Sources for BTreeMap<PathBuf, String> {
    fn read(&self, path: &Path) -> Option<String> {
        self.get(path).cloned()
    }
}

/// One crate to read.
pub struct CrateSpec<'a> {
    /// The package name, for the messages.
    pub package: &'a str,
    /// The library's name as the binary writes it (`omw_chat`).
    pub lib_name: &'a str,
    /// The workspace root; the reports name files relative to it.
    pub root: &'a Path,
    /// The crate's `src` folder, relative to `root`.
    pub src: &'a str,
}

/// One layer: a name and its top-level modules.
pub struct Layer<'a> {
    pub name: &'a str,
    pub modules: &'a [&'a str],
}

/// One reference from a module to another module of the same crate.
#[derive(Clone, Debug)]
pub struct Edge {
    pub from: ModPath,
    pub to: ModPath,
    /// The file and line of the reference, relative to the workspace root.
    pub file: PathBuf,
    pub line: usize,
    /// The path as written (`crate::service::ChatService`).
    pub path: String,
}

struct Module {
    inline: bool,
    children: BTreeSet<String>,
}

/// A crate's modules and the references between them.
pub struct Graph {
    pub package: String,
    modules: BTreeMap<ModPath, Module>,
    pub edges: Vec<Edge>,
    /// Files that could not be found or parsed.
    pub errors: Vec<String>,
}

impl Graph {
    /// The file-level and inline modules of the crate.
    pub fn modules(&self) -> impl Iterator<Item = &ModPath> {
        self.modules.keys()
    }

    /// The distinct (from, to) pairs, rendered `a::b -> c`, for a quick look.
    pub fn pairs(&self) -> BTreeSet<(String, String)> {
        self.edges
            .iter()
            .map(|e| (name(&e.from), name(&e.to)))
            .collect()
    }
}

/// `a::b`, or `crate` for the root.
pub fn name(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        path.join("::")
    }
}

struct Parsed {
    module: ModPath,
    crate_root: ModPath,
    file: PathBuf,
    ast: syn::File,
}

/// Reads a crate: its library (`src/lib.rs`) and its binary (`src/main.rs`, as module `main`).
pub fn load(spec: &CrateSpec, sources: &dyn Sources) -> Graph {
    let mut graph = Graph {
        package: spec.package.to_owned(),
        modules: BTreeMap::new(),
        edges: Vec::new(),
        errors: Vec::new(),
    };
    let mut parsed = Vec::new();
    let src = PathBuf::from(spec.src);
    let mut roots = 0;
    for (file, module) in [("lib.rs", vec![]), ("main.rs", vec!["main".to_owned()])] {
        let path = src.join(file);
        let Some(text) = sources.read(&spec.root.join(&path)) else {
            continue;
        };
        roots += 1;
        if !module.is_empty() {
            graph
                .modules
                .entry(vec![])
                .or_insert_with(|| Module {
                    inline: false,
                    children: BTreeSet::new(),
                })
                .children
                .insert(module[0].clone());
        }
        let crate_root = module.clone();
        load_file(
            &mut graph,
            &mut parsed,
            spec,
            sources,
            module,
            crate_root,
            path,
            &text,
            src.clone(),
        );
    }
    if roots == 0 {
        graph.errors.push(format!(
            "{}: neither {0}/lib.rs nor {0}/main.rs found",
            spec.src
        ));
    }
    for file in &parsed {
        let mut collector = Collector {
            graph: &graph,
            lib_name: spec.lib_name,
            crate_root: &file.crate_root,
            file: &file.file,
            stack: file.module.clone(),
            edges: Vec::new(),
        };
        collector.visit_file(&file.ast);
        let edges = collector.edges;
        graph.edges.extend(edges);
    }
    graph
}

#[allow(clippy::too_many_arguments)]
fn load_file(
    graph: &mut Graph,
    parsed: &mut Vec<Parsed>,
    spec: &CrateSpec,
    sources: &dyn Sources,
    module: ModPath,
    crate_root: ModPath,
    file: PathBuf,
    text: &str,
    children_dir: PathBuf,
) {
    let ast = match syn::parse_file(text) {
        Ok(ast) => ast,
        Err(e) => {
            let line = e.span().start().line;
            graph
                .errors
                .push(format!("{}:{line}: cannot parse: {e}", file.display()));
            return;
        }
    };
    graph.modules.entry(module.clone()).or_insert(Module {
        inline: false,
        children: BTreeSet::new(),
    });
    declare_children(
        graph,
        parsed,
        spec,
        sources,
        &module,
        &crate_root,
        &ast.items,
        &children_dir,
        &file,
    );
    parsed.push(Parsed {
        module,
        crate_root,
        file,
        ast,
    });
}

#[allow(clippy::too_many_arguments)]
fn declare_children(
    graph: &mut Graph,
    parsed: &mut Vec<Parsed>,
    spec: &CrateSpec,
    sources: &dyn Sources,
    module: &ModPath,
    crate_root: &ModPath,
    items: &[syn::Item],
    dir: &Path,
    file: &Path,
) {
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        let ident = m.ident.to_string();
        let mut child = module.clone();
        child.push(ident.clone());
        if let Some(parent) = graph.modules.get_mut(module) {
            parent.children.insert(ident.clone());
        }
        let child_dir = dir.join(&ident);
        match &m.content {
            Some((_, items)) => {
                graph.modules.insert(
                    child.clone(),
                    Module {
                        inline: true,
                        children: BTreeSet::new(),
                    },
                );
                declare_children(
                    graph, parsed, spec, sources, &child, crate_root, items, &child_dir, file,
                );
            }
            None => {
                let candidates = match path_attr(&m.attrs) {
                    Some(p) => vec![file.parent().unwrap_or(Path::new("")).join(p)],
                    None => vec![dir.join(format!("{ident}.rs")), child_dir.join("mod.rs")],
                };
                let found = candidates
                    .iter()
                    .find_map(|c| sources.read(&spec.root.join(c)).map(|t| (c.clone(), t)));
                match found {
                    Some((path, text)) => load_file(
                        graph,
                        parsed,
                        spec,
                        sources,
                        child,
                        crate_root.clone(),
                        path,
                        &text,
                        child_dir,
                    ),
                    None => graph.errors.push(format!(
                        "{}:{}: `mod {ident};` found no file ({})",
                        file.display(),
                        m.ident.span().start().line,
                        candidates
                            .iter()
                            .map(|c| c.display().to_string())
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )),
                }
            }
        }
    }
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| match &a.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    })
}

struct Collector<'a> {
    graph: &'a Graph,
    lib_name: &'a str,
    crate_root: &'a ModPath,
    file: &'a Path,
    /// The module being visited, inline modules included.
    stack: ModPath,
    edges: Vec<Edge>,
}

impl Collector<'_> {
    /// Records `segments` (a path as written) when it names a module of the crate.
    fn reference(&mut self, segments: &[String], span: Span) {
        let Some(target) = self.resolve(segments) else {
            return;
        };
        let from = self.file_module(&self.stack);
        let to = self.file_module(&target);
        if from == to || to.is_empty() {
            return;
        }
        self.edges.push(Edge {
            from,
            to,
            file: self.file.to_path_buf(),
            line: span.start().line,
            path: segments.join("::"),
        });
    }

    /// The longest module of the crate `segments` names, or `None` when the path starts
    /// outside the crate (another crate, `std`, a local item).
    fn resolve(&self, segments: &[String]) -> Option<ModPath> {
        let (head, rest) = segments.split_first()?;
        let mut base = match head.as_str() {
            "crate" | "$crate" => self.crate_root.clone(),
            h if h == self.lib_name => vec![],
            "self" => self.stack.clone(),
            "super" => {
                let mut base = self.stack.clone();
                base.pop()?;
                let mut rest = rest;
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop()?;
                    rest = &rest[1..];
                }
                return Some(self.longest_module(base, rest));
            }
            // A bare name (a local, a type) is a module only in `use chats;`: rare, skipped.
            _ if rest.is_empty() => return None,
            h if self
                .graph
                .modules
                .get(&self.stack)
                .is_some_and(|m| m.children.contains(h)) =>
            {
                let mut base = self.stack.clone();
                base.push(h.to_owned());
                base
            }
            _ => return None,
        };
        if base.is_empty() && rest.is_empty() {
            return Some(base);
        }
        let rest = if rest.first().is_some_and(|s| s == "self") {
            &rest[1..]
        } else {
            rest
        };
        base = self.longest_module(base, rest);
        Some(base)
    }

    fn longest_module(&self, mut base: ModPath, rest: &[String]) -> ModPath {
        for segment in rest {
            base.push(segment.clone());
            if !self.graph.modules.contains_key(&base) {
                base.pop();
                break;
            }
        }
        base
    }

    /// The file a module lives in, as a module path: an inline module's closest file module.
    fn file_module(&self, path: &ModPath) -> ModPath {
        let mut path = path.clone();
        while self.graph.modules.get(&path).is_some_and(|m| m.inline) {
            path.pop();
        }
        path
    }

    /// Path-looking token runs in a macro's body: `a::b::c`, `$crate::x`.
    fn scan(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let is_colons = |i: usize| {
            matches!((tokens.get(i), tokens.get(i + 1)),
                (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                    if a.as_char() == ':' && b.as_char() == ':')
        };
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => {
                    self.scan(g.stream());
                    i += 1;
                }
                TokenTree::Ident(ident) => {
                    let absolute = i >= 2 && is_colons(i - 2);
                    let dollar = i >= 1
                        && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '$');
                    let mut segments = vec![if dollar {
                        format!("${ident}")
                    } else {
                        ident.to_string()
                    }];
                    let mut j = i + 1;
                    while is_colons(j) {
                        let Some(TokenTree::Ident(next)) = tokens.get(j + 2) else {
                            break;
                        };
                        segments.push(next.to_string());
                        j += 3;
                    }
                    // `crate::{a::X, b}` in a macro body (a `use` in `macro_rules!`).
                    if !absolute
                        && is_colons(j)
                        && let Some(TokenTree::Group(g)) = tokens.get(j + 2)
                        && g.delimiter() == proc_macro2::Delimiter::Brace
                    {
                        let tree: TokenStream = tokens[i..j + 3].iter().cloned().collect();
                        if let Ok(tree) = syn::parse2::<syn::UseTree>(tree) {
                            let mut found = Vec::new();
                            expand_use(&tree, &mut Vec::new(), &mut found);
                            for (segments, span) in found {
                                self.reference(&segments, span);
                            }
                        } else {
                            self.scan(g.stream());
                        }
                        i = j + 3;
                        continue;
                    }
                    if !absolute && segments.len() >= 2 {
                        self.reference(&segments, ident.span());
                    }
                    i = j;
                }
                _ => i += 1,
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        // A file module's items are visited with its own file.
        if let Some((_, items)) = &m.content {
            self.stack.push(m.ident.to_string());
            for item in items {
                self.visit_item(item);
            }
            self.stack.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if u.leading_colon.is_some() {
            return;
        }
        let mut found = Vec::new();
        expand_use(&u.tree, &mut Vec::new(), &mut found);
        for (segments, span) in found {
            self.reference(&segments, span);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() {
            let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            if let Some(first) = p.segments.first() {
                self.reference(&segments, first.ident.span());
            }
        }
        visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        self.scan(m.tokens.clone());
    }

    // `pub(in crate::x)` and `pub(crate)` name no dependency.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}
}

fn expand_use(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, Span)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            expand_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            if n.ident != "self" || path.is_empty() {
                path.push(n.ident.to_string());
            }
            out.push((path, n.ident.span()));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" || path.is_empty() {
                path.push(r.ident.to_string());
            }
            out.push((path, r.ident.span()));
        }
        syn::UseTree::Glob(g) => out.push((prefix.clone(), g.star_token.spans[0])),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                expand_use(item, prefix, out);
            }
        }
    }
}

/// Everything wrong with `graph`: cycles between siblings and, when `layers` is not empty,
/// upward imports and top-level modules in no layer. Empty means the graph is fine.
pub fn check(graph: &Graph, layers: &[Layer]) -> Vec<String> {
    let mut problems: Vec<String> = graph
        .errors
        .iter()
        .map(|e| format!("{}: {e}", graph.package))
        .collect();
    problems.extend(cycles(graph));
    if !layers.is_empty() {
        problems.extend(upward(graph, layers));
    }
    problems
}

fn evidence(edge: &Edge) -> String {
    format!(
        "{}:{}: `{}` uses `{}`",
        edge.file.display(),
        edge.line,
        name(&edge.from),
        edge.path
    )
}

fn cycles(graph: &Graph) -> Vec<String> {
    // parent -> (child, child) -> the first reference between them (or between their insides)
    let mut siblings: BTreeMap<ModPath, BTreeMap<(String, String), &Edge>> = BTreeMap::new();
    for edge in &graph.edges {
        let common = edge
            .from
            .iter()
            .zip(&edge.to)
            .take_while(|(a, b)| a == b)
            .count();
        if common < edge.from.len() && common < edge.to.len() {
            siblings
                .entry(edge.from[..common].to_vec())
                .or_default()
                .entry((edge.from[common].clone(), edge.to[common].clone()))
                .or_insert(edge);
        }
    }
    let mut problems = Vec::new();
    for (parent, edges) in &siblings {
        let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (a, b) in edges.keys() {
            next.entry(a).or_default().push(b);
        }
        let mut reported: BTreeSet<&str> = BTreeSet::new();
        for start in next.keys().copied() {
            if reported.contains(start) {
                continue;
            }
            // The shortest way back to `start`, breadth first.
            let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
            let mut queue = VecDeque::from([start]);
            let mut closed = None;
            while let Some(node) = queue.pop_front() {
                for &n in next.get(node).into_iter().flatten() {
                    if n == start {
                        closed = Some(node);
                        break;
                    }
                    if !came_from.contains_key(n) {
                        came_from.insert(n, node);
                        queue.push_back(n);
                    }
                }
                if closed.is_some() {
                    break;
                }
            }
            let Some(mut last) = closed else { continue };
            let mut ring = vec![start];
            while last != start {
                ring.push(last);
                last = came_from[last];
            }
            ring[1..].reverse();
            reported.extend(ring.iter().copied());
            let prefix = |m: &str| {
                let mut p = parent.clone();
                p.push(m.to_owned());
                name(&p)
            };
            let mut text = format!(
                "{}: cycle between the modules of `{}`: {} -> {}",
                graph.package,
                name(parent),
                ring.iter()
                    .map(|m| prefix(m))
                    .collect::<Vec<_>>()
                    .join(" -> "),
                prefix(start)
            );
            for (i, a) in ring.iter().enumerate() {
                let b = ring[(i + 1) % ring.len()];
                let edge = edges[&((*a).to_owned(), b.to_owned())];
                let _ = write!(text, "\n    {}", evidence(edge));
            }
            problems.push(text);
        }
    }
    problems
}

fn upward(graph: &Graph, layers: &[Layer]) -> Vec<String> {
    let mut problems = Vec::new();
    let layer_of = |m: &str| layers.iter().position(|l| l.modules.contains(&m));
    let top_level: BTreeSet<&String> = graph
        .modules
        .get(&vec![])
        .map(|root| root.children.iter().collect())
        .unwrap_or_default();
    for m in &top_level {
        if layer_of(m).is_none() {
            problems.push(format!(
                "{}: top-level module `{m}` is in no layer: add it to the layers",
                graph.package
            ));
        }
    }
    for layer in layers {
        for m in layer.modules {
            if !top_level.iter().any(|t| t == m) {
                problems.push(format!(
                    "{}: layer `{}` names `{m}`, which is not a top-level module",
                    graph.package, layer.name
                ));
            }
        }
    }
    let mut seen = BTreeSet::new();
    for edge in &graph.edges {
        let (Some(a), Some(b)) = (edge.from.first(), edge.to.first()) else {
            continue;
        };
        let (Some(la), Some(lb)) = (layer_of(a), layer_of(b)) else {
            continue;
        };
        if lb < la && seen.insert((edge.from.clone(), edge.to.clone())) {
            problems.push(format!(
                "{}: upward import: `{a}` (layer {}, {}) must not import from `{b}` (layer {}, {})\n    {}",
                graph.package,
                la + 1,
                layers[la].name,
                lb + 1,
                layers[lb].name,
                evidence(edge)
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> Graph {
        let sources: BTreeMap<PathBuf, String> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), (*t).to_owned()))
            .collect();
        let spec = CrateSpec {
            package: "demo",
            lib_name: "demo",
            root: Path::new(""),
            src: "src",
        };
        load(&spec, &sources)
    }

    const LAYERS: &[Layer] = &[
        Layer {
            name: "transports",
            modules: &["main", "http"],
        },
        Layer {
            name: "service",
            modules: &["service"],
        },
        Layer {
            name: "below",
            modules: &["files"],
        },
    ];

    fn clean() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "src/lib.rs",
                "pub mod files; pub mod http; pub mod service;",
            ),
            (
                "src/main.rs",
                "use demo::http::serve; fn main() { serve() }",
            ),
            (
                "src/http/mod.rs",
                "mod chats; pub fn serve() { chats::route(); }",
            ),
            (
                "src/http/chats.rs",
                "use crate::service::{self, Chat};\n\
                 pub fn route() { let _c: Chat = service::open(); }",
            ),
            (
                "src/service/mod.rs",
                "mod store; mod writer; pub struct Chat;\n\
                 pub fn open() -> Chat { writer::write(); Chat }",
            ),
            (
                "src/service/writer.rs",
                "pub fn write() { super::store::put(); tracing::info!(\"{}\", crate::files::NAME); }\n\
                 macro_rules! m { () => { use crate::{service::Chat, files::{self}}; }; }",
            ),
            ("src/service/store.rs", "pub fn put() {}"),
            ("src/files.rs", "pub const NAME: &str = \"f\";"),
        ]
    }

    #[test]
    fn finds_the_references() {
        let g = graph(&clean());
        assert!(g.errors.is_empty(), "{:?}", g.errors);
        let pairs = g.pairs();
        for (a, b) in [
            ("main", "http"),
            ("http", "http::chats"),
            ("http::chats", "service"),
            ("service", "service::writer"),
            ("service::writer", "service::store"),
            ("service::writer", "service"),
            ("service::writer", "files"),
        ] {
            assert!(
                pairs.contains(&(a.to_owned(), b.to_owned())),
                "{a} -> {b} missing from {pairs:?}"
            );
        }
        assert_eq!(check(&g, LAYERS), Vec::<String>::new());
    }

    #[test]
    fn reports_a_cycle_between_sibling_files() {
        let mut files = clean();
        files.retain(|(p, _)| *p != "src/service/store.rs");
        files.push((
            "src/service/store.rs",
            "use super::writer::write;\npub fn put() { let _ = write; }",
        ));
        let problems = check(&graph(&files), LAYERS);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        let p = &problems[0];
        assert!(
            p.contains("cycle between the modules of `service`: service::store -> service::writer -> service::store"),
            "{p}"
        );
        assert!(
            p.contains("src/service/store.rs:1: `service::store` uses `super::writer::write`"),
            "{p}"
        );
        assert!(
            p.contains("src/service/writer.rs:1: `service::writer` uses `super::store::put`"),
            "{p}"
        );
    }

    #[test]
    fn reports_a_cycle_between_top_level_modules_and_an_upward_import() {
        let mut files = clean();
        files.retain(|(p, _)| *p != "src/service/store.rs");
        // Inside an inline module and a macro body: both count.
        files.push((
            "src/service/store.rs",
            "pub fn put() {}\nmod tests {\n    fn t() { assert!(crate::http::serve == crate::http::serve); }\n}",
        ));
        let problems = check(&graph(&files), LAYERS);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(
            problems[0].contains("cycle between the modules of `crate`: http -> service -> http"),
            "{}",
            problems[0]
        );
        assert!(
            problems[0]
                .contains("src/service/store.rs:3: `service::store` uses `crate::http::serve`"),
            "{}",
            problems[0]
        );
        assert!(
            problems[1].contains(
                "upward import: `service` (layer 2, service) must not import from `http` (layer 1, transports)"
            ),
            "{}",
            problems[1]
        );
    }

    #[test]
    fn reports_an_upward_import_without_a_cycle() {
        let mut files = clean();
        files.retain(|(p, _)| *p != "src/files.rs");
        files.push((
            "src/files.rs",
            "pub const NAME: &str = \"f\";\npub fn chat() -> crate::service::Chat { todo!() }",
        ));
        // files -> service and service -> files: a cycle and an upward import.
        let problems = check(&graph(&files), LAYERS);
        assert!(
            problems.iter().any(|p| p.contains(
                "upward import: `files` (layer 3, below) must not import from `service` (layer 2, service)\n    src/files.rs:2: `files` uses `crate::service::Chat`"
            )),
            "{problems:#?}"
        );
        // Without the way back it is only the upward import.
        files.retain(|(p, _)| *p != "src/service/writer.rs");
        files.push((
            "src/service/writer.rs",
            "pub fn write() { super::store::put(); }",
        ));
        let problems = check(&graph(&files), LAYERS);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0].contains("upward import: `files`"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_module_in_no_layer_and_a_missing_file_are_errors() {
        let mut files = clean();
        files.retain(|(p, _)| *p != "src/lib.rs");
        files.push((
            "src/lib.rs",
            "pub mod files; pub mod http; pub mod service; pub mod extra; mod gone;",
        ));
        files.push(("src/extra.rs", ""));
        let problems = check(&graph(&files), LAYERS);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`mod gone;` found no file")),
            "{problems:#?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("top-level module `extra` is in no layer")),
            "{problems:#?}"
        );
    }
}
