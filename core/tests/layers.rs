//! The layer rule of src/lib.rs, checked on the source: imports run one way, from saved state
//! (`persist/`) to the learners (`plan/`, then `lora/`), to the shared vocabulary (`error`,
//! `arguments`, `scope`, `limits`), to the numeric helpers (`numeric/`), never back.

use std::fs;
use std::path::Path;

/// The layers from the top; a module may name its own layer's modules and those below it.
const LAYERS: [(&str, &[&str]); 5] = [
    ("persist", &["persist"]),
    ("plan", &["plan"]),
    ("lora", &["lora"]),
    ("vocabulary", &["error", "arguments", "scope", "limits"]),
    ("numeric", &["numeric"]),
];

/// The layer of a module named by its first path segment below `crate::`.
fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, modules)| modules.contains(&module))
}

/// Every `.rs` file under `dir`, with its path relative to src/.
fn sources(dir: &Path, relative: &str, out: &mut Vec<(String, String)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let relative = if relative.is_empty() { name } else { format!("{relative}/{name}") };
        if path.is_dir() {
            sources(&path, &relative, out);
        } else if relative.ends_with(".rs") {
            out.push((relative, fs::read_to_string(&path).unwrap()));
        }
    }
}

#[test]
fn no_module_imports_a_higher_layer_or_the_crate_root() {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut files);
    let mut violations = Vec::new();
    for (path, text) in &files {
        if path == "lib.rs" {
            continue;
        }
        let top = path.split(['/', '.']).next().unwrap();
        let own = layer_of(top).unwrap_or_else(|| panic!("src/{path} is in no layer of tests/layers.rs"));
        for (number, line) in text.lines().enumerate() {
            // Comments may mention any item (doc links are not imports).
            let code = line.split("//").next().unwrap();
            for (at, _) in code.match_indices("crate::") {
                let named: String = code[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let allowed = match layer_of(&named) {
                    Some(layer) => layer >= own,
                    // A name the crate root re-exports: the module it lives in says its layer.
                    None => false,
                };
                if !allowed {
                    violations.push(format!("src/{path}:{}: crate::{named}", number + 1));
                }
            }
        }
    }
    assert!(violations.is_empty(), "imports against the layer rule:\n{}", violations.join("\n"));
}
