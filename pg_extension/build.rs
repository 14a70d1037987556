//! Compiles the hooks' C shim (`src/hooks.c`) against the server headers of the PostgreSQL that
//! pgrx builds for: `PGRX_PG_CONFIG_PATH` when cargo-pgrx sets it, else the entry of cargo-pgrx's
//! config.toml (`cargo pgrx init --pg15 …`) for the crate's PostgreSQL feature (`pg15`, the
//! default, or `pg16`, `pg17`, `pg18`).
//!
//! The C<->Rust boundary has one source, the Rust code: before compiling `hooks.c`, this script
//! writes `hooks.h` into `OUT_DIR` from the crate's sources (see [`boundary_header`]), and
//! `hooks.c` includes it instead of declaring anything of the boundary itself. The header holds
//! the prototype of every `#[no_mangle] extern "C"` function the Rust side exports, the prototype
//! of every function a Rust `extern "C"` block imports, each `#[repr(C)]` struct, and the
//! constants the C side shares with core (`MICROLORA_MAX_ARMS`, core's `MAX_ARMS`). So the C
//! compiler checks both directions: a call from C against the Rust signature it reaches, and a
//! definition in C against the declaration Rust calls it through (a mismatch is a "conflicting
//! types" error). A Rust type the header cannot spell in C fails the build.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pgrx_pg_config::{PgConfig, Pgrx};

/// The PostgreSQL majors the crate has a feature for.
const MAJORS: [u16; 4] = [15, 16, 17, 18];

/// What a `#[repr(C)]` struct named `Name` in Rust is called in C: PostgreSQL's own names are
/// unprefixed, so ours carry the extension's.
const C_STRUCT_PREFIX: &str = "Microlora";

fn main() {
    // The boundary header is read from every Rust file, so any change to the sources reruns it.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-env-changed=PGRX_PG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let header = boundary_header(Path::new("src")).unwrap_or_else(|error| panic!("src/hooks.h: {error}"));
    std::fs::write(out_dir.join("hooks.h"), header).expect("cannot write hooks.h into OUT_DIR");
    // A documentation build (docs.rs, or a type check with pgrx's bindings that ship in
    // pgrx-pg-sys, see scripts/check-majors.sh) has no server headers and links nothing.
    if std::env::var_os("DOCS_RS").is_some() {
        return;
    }
    let config = match std::env::var("PGRX_PG_CONFIG_PATH") {
        Ok(path) => PgConfig::new_with_defaults(path.into()),
        Err(_) => {
            let major = feature_major();
            Pgrx::from_config().and_then(|pgrx| pgrx.get(&format!("pg{major}"))).unwrap_or_else(|error| {
                panic!(
                    "no PostgreSQL {major} to build against ({error}): run `cargo pgrx init --pg{major} …`"
                )
            })
        }
    };
    let includedir = config
        .includedir_server()
        .unwrap_or_else(|error| panic!("cannot ask pg_config for the server headers: {error}"));
    cc::Build::new()
        .file("src/hooks.c")
        .include(&out_dir)
        .include(includedir)
        // The boundary's checks: a function of hooks.c that is not in hooks.h (so not declared
        // by the Rust side), a call to an undeclared function, and an argument of the wrong type
        // are errors, not warnings.
        .flag("-Werror=missing-prototypes")
        .flag("-Werror=implicit-function-declaration")
        .flag("-Werror=incompatible-pointer-types")
        .flag("-Werror=int-conversion")
        // PostgreSQL's own headers and style trip these.
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-missing-field-initializers")
        .flag_if_supported("-Wno-sign-compare")
        .compile("microlora_hooks");
}

/// The major of the one `pgNN` feature the crate is built with.
fn feature_major() -> u16 {
    let enabled: Vec<u16> = MAJORS
        .into_iter()
        .filter(|major| std::env::var_os(format!("CARGO_FEATURE_PG{major}")).is_some())
        .collect();
    match enabled[..] {
        [major] => major,
        [] => panic!("no PostgreSQL feature: build with one of pg15 (the default), pg16, pg17, pg18"),
        _ => panic!(
            "PostgreSQL features {enabled:?} together: pick one, with --no-default-features for another than pg15"
        ),
    }
}

/// One side of the boundary found in the Rust sources.
struct Function {
    /// The file it is in, relative to the crate.
    file: String,
    doc: Vec<String>,
    signature: syn::Signature,
}

/// The text of `hooks.h`: the boundary read from every `.rs` file under `src`.
fn boundary_header(src: &Path) -> Result<String, String> {
    let mut files = Vec::new();
    rust_files(src, &mut files).map_err(|error| format!("cannot list {}: {error}", src.display()))?;
    files.sort();
    let (mut exported, mut imported, mut structs) = (Vec::new(), Vec::new(), Vec::new());
    for path in &files {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        let file =
            syn::parse_file(&text).map_err(|error| format!("cannot parse {}: {error}", path.display()))?;
        let shown = format!("pg_extension/{}", path.display());
        for item in file.items {
            match item {
                syn::Item::Fn(function) if is_exported(&function) => {
                    refuse_cfg(&function.attrs, &function.sig.ident, &shown)?;
                    exported.push(Function {
                        file: shown.clone(),
                        doc: doc_of(&function.attrs),
                        signature: function.sig,
                    });
                }
                syn::Item::ForeignMod(block) if is_c_abi(Some(&block.abi)) => {
                    for foreign in block.items {
                        if let syn::ForeignItem::Fn(function) = foreign {
                            refuse_cfg(&function.attrs, &function.sig.ident, &shown)?;
                            imported.push(Function {
                                file: shown.clone(),
                                doc: doc_of(&function.attrs),
                                signature: function.sig,
                            });
                        }
                    }
                }
                syn::Item::Struct(item) if is_repr_c(&item.attrs) => {
                    refuse_cfg(&item.attrs, &item.ident, &shown)?;
                    structs.push((shown.clone(), item));
                }
                _ => {}
            }
        }
    }
    let struct_names: BTreeSet<String> = structs.iter().map(|(_, item)| item.ident.to_string()).collect();
    let c = CTypes { structs: &struct_names };

    let mut out = String::new();
    out.push_str(
        "/*\n * The C<->Rust boundary of microlora's hooks, generated by pg_extension/build.rs from the\n \
         * crate's Rust sources at build time: do not edit. hooks.c includes it after PostgreSQL's\n \
         * headers; see build.rs for what it checks.\n */\n\
         #ifndef MICROLORA_HOOKS_H\n#define MICROLORA_HOOKS_H\n\n",
    );
    out.push_str("/* Arms a statement can be planned under (core's MAX_ARMS). */\n");
    writeln!(out, "#define MICROLORA_MAX_ARMS {}\n", microlora_core::MAX_ARMS).unwrap();
    for (_, item) in &structs {
        writeln!(out, "typedef struct {C_STRUCT_PREFIX}{0} {C_STRUCT_PREFIX}{0};", item.ident).unwrap();
    }
    for (file, item) in &structs {
        writeln!(out, "\n/* {file}: {} */", item.ident).unwrap();
        comment(&mut out, "", &doc_of(&item.attrs));
        writeln!(out, "struct {C_STRUCT_PREFIX}{}\n{{", item.ident).unwrap();
        let syn::Fields::Named(fields) = &item.fields else {
            return Err(format!("{file}: struct {} is #[repr(C)] without named fields", item.ident));
        };
        for field in &fields.named {
            comment(&mut out, "\t", &doc_of(&field.attrs));
            let name = field.ident.as_ref().expect("named fields have names");
            let ty =
                c.of(&field.ty).map_err(|error| format!("{file}: field {}.{name}: {error}", item.ident))?;
            writeln!(out, "\t{};", declare(&ty, &name.to_string())).unwrap();
        }
        out.push_str("};\n");
    }
    out.push_str("\n/* Implemented in Rust, called from hooks.c. */\n");
    prototypes(&mut out, &c, &exported)?;
    out.push_str("\n/* Implemented in hooks.c, called from Rust through an extern block. */\n");
    prototypes(&mut out, &c, &imported)?;
    out.push_str("\n#endif\t\t\t\t\t\t\t/* MICROLORA_HOOKS_H */\n");
    Ok(out)
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, files)?;
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

fn prototypes(out: &mut String, c: &CTypes, functions: &[Function]) -> Result<(), String> {
    for function in functions {
        let signature = &function.signature;
        let name = signature.ident.to_string();
        let failed = |error: String| format!("{}: fn {name}: {error}", function.file);
        if signature.variadic.is_some() || !signature.generics.params.is_empty() {
            return Err(failed("variadic or generic functions cannot cross the boundary".into()));
        }
        let result = match &signature.output {
            syn::ReturnType::Default => "void".to_string(),
            syn::ReturnType::Type(_, ty) => c.of(ty).map_err(failed)?,
        };
        let mut arguments = Vec::new();
        for input in &signature.inputs {
            let syn::FnArg::Typed(argument) = input else {
                return Err(failed("a method cannot cross the boundary".into()));
            };
            let syn::Pat::Ident(pattern) = &*argument.pat else {
                return Err(failed("an argument without a plain name".into()));
            };
            let ty = c.of(&argument.ty).map_err(failed)?;
            arguments.push(declare(&ty, pattern.ident.to_string().trim_start_matches('_')));
        }
        let arguments = if arguments.is_empty() { "void".to_string() } else { arguments.join(", ") };
        writeln!(out, "\n/* {}: */", function.file).unwrap();
        comment(out, "", &function.doc);
        writeln!(out, "extern {};", declare(&result, &format!("{name}({arguments})"))).unwrap();
    }
    Ok(())
}

/// `ty name` as C writes it (`const char *name`, not `const char * name`).
fn declare(ty: &str, name: &str) -> String {
    if ty.ends_with('*') {
        format!("{ty}{name}")
    } else {
        format!("{ty} {name}")
    }
}

/// Writes doc lines as a C comment, each line prefixed with `indent`.
fn comment(out: &mut String, indent: &str, doc: &[String]) {
    match doc {
        [] => {}
        [line] => writeln!(out, "{indent}/* {line} */").unwrap(),
        lines => {
            writeln!(out, "{indent}/*").unwrap();
            for line in lines {
                let line = if line.is_empty() { String::new() } else { format!(" {line}") };
                writeln!(out, "{indent} *{line}").unwrap();
            }
            writeln!(out, "{indent} */").unwrap();
        }
    }
}

/// The lines of an item's `///` documentation, without the `# Safety` section and below (the
/// C side reads the promise in the Rust file the prototype names).
fn doc_of(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(syn::MetaNameValue {
            value: syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }),
            ..
        }) = &attr.meta
        {
            let line = text.value();
            let line = line.strip_prefix(' ').unwrap_or(&line).trim_end().to_string();
            if line == "# Safety" {
                break;
            }
            lines.push(line.replace("*/", "* /"));
        }
    }
    while lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    lines
}

/// Whether a function is exported under its own name with the C calling convention.
fn is_exported(function: &syn::ItemFn) -> bool {
    let no_mangle = function.attrs.iter().any(|attr| {
        attr.path().is_ident("no_mangle")
            || (attr.path().is_ident("unsafe")
                && attr.parse_args::<syn::Path>().is_ok_and(|inner| inner.is_ident("no_mangle")))
    });
    no_mangle && is_c_abi(function.sig.abi.as_ref())
}

fn is_c_abi(abi: Option<&syn::Abi>) -> bool {
    abi.and_then(|abi| abi.name.as_ref())
        .is_some_and(|name| matches!(name.value().as_str(), "C" | "C-unwind"))
}

fn is_repr_c(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let mut c = false;
        if attr.path().is_ident("repr") {
            let _ = attr.parse_nested_meta(|meta| {
                c |= meta.path.is_ident("C");
                Ok(())
            });
        }
        c
    })
}

/// A boundary item that exists only under some configuration would need the same condition in
/// C; none does, and this keeps it so rather than writing a prototype that may not link.
fn refuse_cfg(attrs: &[syn::Attribute], name: &syn::Ident, file: &str) -> Result<(), String> {
    if attrs.iter().any(|attr| attr.path().is_ident("cfg")) {
        return Err(format!("{file}: {name} crosses the C boundary under a #[cfg]: hooks.h cannot say so"));
    }
    Ok(())
}

/// The C spelling of the Rust types that cross the boundary.
struct CTypes<'a> {
    /// The `#[repr(C)]` structs of the crate, by their Rust name.
    structs: &'a BTreeSet<String>,
}

impl CTypes<'_> {
    fn of(&self, ty: &syn::Type) -> Result<String, String> {
        match ty {
            syn::Type::Ptr(pointer) => {
                let inner = self.of(&pointer.elem)?;
                let pointee_is_pointer = matches!(*pointer.elem, syn::Type::Ptr(_));
                Ok(match (pointer.const_token.is_some(), pointee_is_pointer) {
                    (true, false) => format!("const {inner} *"),
                    (true, true) => format!("{inner} const *"),
                    (false, _) if inner.ends_with('*') => format!("{inner}*"),
                    (false, _) => format!("{inner} *"),
                })
            }
            syn::Type::Tuple(unit) if unit.elems.is_empty() => Ok("void".into()),
            syn::Type::Paren(inner) => self.of(&inner.elem),
            syn::Type::Path(path) if path.qself.is_none() => {
                let segments: Vec<String> = path.path.segments.iter().map(|segment| segment.ident.to_string()).collect();
                if path.path.segments.iter().any(|segment| !segment.arguments.is_none()) {
                    return Err(format!("`{}` has generic arguments", segments.join("::")));
                }
                let last = segments.last().expect("a path has a segment").as_str();
                // pgrx's bindings name PostgreSQL's types as its headers do.
                if segments.len() >= 2 && segments[segments.len() - 2] == "pg_sys" {
                    return Ok(last.to_string());
                }
                let primitive = match last {
                    "bool" => "bool",
                    "i8" => "int8",
                    "u8" => "uint8",
                    "i16" => "int16",
                    "u16" => "uint16",
                    "i32" => "int32",
                    "u32" => "uint32",
                    "i64" => "int64",
                    "u64" => "uint64",
                    "f32" => "float",
                    "f64" => "double",
                    "usize" => "Size",
                    "c_char" => "char",
                    "c_int" => "int",
                    "c_void" => "void",
                    _ if segments.len() == 1 && self.structs.contains(last) => {
                        return Ok(format!("{C_STRUCT_PREFIX}{last}"));
                    }
                    _ => return Err(format!("no C spelling for the Rust type `{}`", segments.join("::"))),
                };
                Ok(primitive.to_string())
            }
            _ => Err("no C spelling for this Rust type (only pointers, primitives, pg_sys types and #[repr(C)] structs)".into()),
        }
    }
}
