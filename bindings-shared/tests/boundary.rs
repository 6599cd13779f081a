//! The generated side of the boundary is what `bindings-shared/src/boundary.rs` declares: each
//! generated file, as committed, equals what `render` makes of the declaration now. With
//! `SEAWALL_BLESS=1` the files are written instead (after changing the declaration).

use std::path::PathBuf;

use seawall_bindings_shared::boundary;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn check(path: &str, want: String) {
    let file = repo(path);
    let have = std::fs::read_to_string(&file).unwrap_or_default();
    if have == want {
        return;
    }
    if std::env::var_os("SEAWALL_BLESS").is_some() {
        std::fs::write(&file, want).unwrap();
        return;
    }
    panic!("{path} is stale: run `SEAWALL_BLESS=1 cargo test -p seawall-bindings-shared --test boundary` and commit it");
}

#[test]
fn generated_bindings_are_current() {
    check("bindings-node/src/ops.rs", boundary::napi());
    check("bindings-python/src/ops.rs", boundary::python());
    check("bindings-wasm/src/ops.rs", boundary::wasm());
    check("bindings-node/ts/ops.ts", boundary::typescript());
    let pyi = "bindings-python/python/seawall/_native.pyi";
    let text = std::fs::read_to_string(repo(pyi)).unwrap();
    let filled = boundary::fill_regions(&text, &boundary::pyi()).unwrap_or_else(|| panic!("{pyi}: a generated region's markers are missing"));
    check(pyi, filled);
}

#[test]
fn every_operation_is_exposed_somewhere_and_named_once() {
    let mut names = std::collections::HashSet::new();
    for op in boundary::OPS {
        assert!(names.insert(op.name), "{} is declared twice", op.name);
        assert!(op.napi() || op.python(), "{} is exposed nowhere", op.name);
        for t in op.targets {
            assert!(["napi", "python", "wasm", "direct", "fleet", "full"].contains(t), "{}: unknown target {t}", op.name);
        }
        assert!(!(op.wasm() && op.targets.contains(&"direct")), "{}: through call or direct, not both", op.name);
        assert!(!(op.targets.contains(&"fleet") && op.targets.contains(&"full")), "{}: fleet or full, not both", op.name);
    }
}
