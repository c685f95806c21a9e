//! The GUI's modules import each other as a tree: no two depend on each other, directly or
//! through others. Read from the source (imports and paths to `super::` / `crate::gui::`),
//! outside the test modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level GUI module -> the other top-level GUI modules its code names.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gui");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&root).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "tests" || top == "mod" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        let named = deps.entry(top.clone()).or_default();
        for prefix in ["crate::gui::", "super::super::", "super::"] {
            for (at, _) in code.match_indices(prefix) {
                // `super::` inside `super::super::` was counted with the longer prefix.
                if prefix == "super::" && code[..at].ends_with("super::") {
                    continue;
                }
                let rest = &code[at + prefix.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top && name != "super" {
                    named.insert(name);
                }
            }
        }
    }
    let tops: BTreeSet<String> = deps.keys().cloned().collect();
    for named in deps.values_mut() {
        named.retain(|n| tops.contains(n));
    }
    deps
}

#[test]
fn gui_modules_import_each_other_as_a_tree() {
    let deps = dependencies();
    assert!(deps.contains_key("app") && deps.contains_key("chain"));
    // Depth-first search for a path back to the start.
    for start in deps.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in &deps[&node] {
                assert!(
                    next != start,
                    "import cycle: {} -> {next}",
                    path.join(" -> ")
                );
                if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
}
