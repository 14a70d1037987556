//! Compiles the hooks' C shim (`src/hooks.c`) against the server headers of the PostgreSQL that
//! pgrx builds for: `PGRX_PG_CONFIG_PATH` when cargo-pgrx sets it, else the entry of cargo-pgrx's
//! config.toml (`cargo pgrx init --pg15 …`) for the crate's PostgreSQL feature (`pg15`, the
//! default, or `pg16`, `pg17`, `pg18`).

use pgrx_pg_config::{PgConfig, Pgrx};

/// The PostgreSQL majors the crate has a feature for.
const MAJORS: [u16; 4] = [15, 16, 17, 18];

fn main() {
    println!("cargo:rerun-if-changed=src/hooks.c");
    println!("cargo:rerun-if-env-changed=PGRX_PG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=DOCS_RS");
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
                panic!("no PostgreSQL {major} to build against ({error}): run `cargo pgrx init --pg{major} …`")
            })
        }
    };
    let includedir = config
        .includedir_server()
        .unwrap_or_else(|error| panic!("cannot ask pg_config for the server headers: {error}"));
    cc::Build::new()
        .file("src/hooks.c")
        .include(includedir)
        // PostgreSQL's own headers and style trip these.
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-missing-field-initializers")
        .flag_if_supported("-Wno-sign-compare")
        .compile("microlora_hooks");
}

/// The major of the one `pgNN` feature the crate is built with.
fn feature_major() -> u16 {
    let enabled: Vec<u16> =
        MAJORS.into_iter().filter(|major| std::env::var_os(format!("CARGO_FEATURE_PG{major}")).is_some()).collect();
    match enabled[..] {
        [major] => major,
        [] => panic!("no PostgreSQL feature: build with one of pg15 (the default), pg16, pg17, pg18"),
        _ => panic!(
            "PostgreSQL features {enabled:?} together: pick one, with --no-default-features for another than pg15"
        ),
    }
}
