//! The README's OpenTelemetry table says what `core/src/telemetry.rs` declares: every instrument,
//! in order, with its kind and unit (a drift in either fails here).

use seawall_core::telemetry::INSTRUMENTS;

/// The first backticked word of a cell, or the cell itself.
fn word(cell: &str) -> &str {
    cell.trim().trim_matches('`')
}

#[test]
fn the_readme_instruments_table_is_the_cores() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("\n## OpenTelemetry").nth(1).expect("a section ## OpenTelemetry").split("\n## ").next().unwrap();
    let rows: Vec<(String, String, String)> = section
        .lines()
        .filter(|l| l.starts_with("| `seawall."))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').collect();
            (word(cells[1]).to_string(), word(cells[2]).to_string(), word(cells[3]).to_string())
        })
        .collect();
    let declared: Vec<(String, String, String)> = INSTRUMENTS.iter().map(|i| (i.name.to_string(), i.kind.as_str().to_string(), i.unit.to_string())).collect();
    assert_eq!(rows, declared);
}
