//! The README's defaults table says what `core/src/defaults.rs` defines: every option it lists,
//! with its value and unit, is the core's default (a drift in either fails here).

use seawall_core::defaults::table;

fn core_default(name: &str) -> Option<f64> {
    table().into_iter().find(|(n, _)| *n == name).map(|(_, v)| v)
}

/// `500 ms`, `4 s`, `10 min`, `0.2` as a number in the core's unit (ms for durations).
fn value(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let n: f64 = parts.next()?.parse().ok()?;
    Some(match parts.next() {
        None => n,
        Some("ms") => n,
        Some("s") => n * 1000.0,
        Some("min") => n * 60_000.0,
        Some(_) => return None,
    })
}

/// The backticked names of a cell, leaving out those given as aliases.
fn names(cell: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = cell;
    while let Some(start) = rest.find('`') {
        let before = &rest[..start];
        let Some(len) = rest[start + 1..].find('`') else { break };
        let name = &rest[start + 1..start + 1 + len];
        if !before.trim_end().ends_with("alias") {
            out.push(name.to_string());
        }
        rest = &rest[start + 2 + len..];
    }
    out
}

#[test]
fn the_readme_defaults_table_is_the_cores() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let table = readme.split("## Defaults").nth(1).unwrap().split("\n## ").next().unwrap();
    let mut checked = Vec::new();
    for row in table.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| option")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (name_cell, value_cell) = (cells[1], cells[2]);
        // A value written with its option inside (`jitterFactor` 0.1).
        for (name, rest) in names(value_cell).iter().map(|n| (n.clone(), value_cell.split(&format!("`{n}`")).nth(1).unwrap_or(""))) {
            let v = value(rest.trim()).unwrap_or_else(|| panic!("{row}: no value after `{name}`"));
            assert_eq!(core_default(&name), Some(v), "{row}: `{name}`");
            checked.push(name);
        }
        let listed = names(name_cell);
        let values: Vec<&str> = value_cell.split(" / ").collect();
        if listed.len() != values.len() || value_cell.contains('`') {
            continue; // a row that describes, like `jitter`'s kind: its numbers were checked above
        }
        for (name, text) in listed.iter().zip(values) {
            let v = value(text).unwrap_or_else(|| panic!("{row}: {text:?} is not a value"));
            assert_eq!(core_default(name), Some(v), "{row}: `{name}`");
            checked.push(name.clone());
        }
    }
    for (name, _) in seawall_core::defaults::table() {
        assert!(checked.iter().any(|c| c == name), "the README's defaults table does not list `{name}`");
    }
}
