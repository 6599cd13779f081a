//! `seawall-sim scenario.json [--out DIR]`: runs every policy of a scenario through the core's
//! simulator on a virtual clock, prints a comparison table and writes an SVG chart of load,
//! outcomes and rejections over time. The scenario format is documented in
//! `examples/scenario.json` and the README.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use plotters::prelude::*;
use seawall_core::options::{options_from_json, TimeUnit};
use seawall_core::sim::{simulate, BackendModel, LayerPolicy, Outcome, Scenario};
use seawall_core::{BreakerConfig, BudgetConfig, RetryConfig, SeawallError};
use serde_json::Value;

#[derive(Parser)]
#[command(version, about = "What a retry/breaker/budget policy does to a struggling backend, simulated on a virtual clock")]
struct Args {
    /// The scenario (JSON): clients, backend model, and the policies to compare.
    scenario: PathBuf,
    /// Where to write the chart.
    #[arg(long, default_value = "target/sim")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seawall-sim: {e}");
            ExitCode::from(2)
        }
    }
}

fn num(v: &Value, key: &str, default: f64) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(default)
}

fn err(msg: String) -> Box<dyn std::error::Error> {
    msg.into()
}

fn layer_policy(p: &Value) -> Result<LayerPolicy, SeawallError> {
    let opts = |key: &str| p.get(key).filter(|v| v.is_object()).map(options_from_json);
    Ok(LayerPolicy {
        retry: match opts("retry") {
            Some(o) => RetryConfig::from_options(&o, TimeUnit::Millis)?,
            None => RetryConfig { max_attempts: 1, ..RetryConfig::default() },
        },
        budget: opts("budget").map(|o| BudgetConfig::from_options(&o, TimeUnit::Millis)).transpose()?,
        breaker: opts("circuitBreaker").map(|o| BreakerConfig::from_options(&o, TimeUnit::Millis)).transpose()?,
        attempt_timeout_ms: p.get("timeout").and_then(Value::as_f64),
    })
}

/// The scenario for one policy of the file.
fn scenario(doc: &Value, policy: &Value) -> Result<Scenario, Box<dyn std::error::Error>> {
    let b = doc.get("backend").ok_or_else(|| err("scenario has no \"backend\"".into()))?;
    let outages = b.get("outages").and_then(Value::as_array).map(|list| {
        list.iter().filter_map(|w| Some((w.get(0)?.as_f64()?, w.get(1)?.as_f64()?))).collect()
    });
    let layers = policy.get("layers").and_then(Value::as_u64).unwrap_or(1).clamp(1, 16) as usize;
    let layer = layer_policy(policy).map_err(|e| err(e.message))?;
    Ok(Scenario {
        seed: doc.get("seed").and_then(Value::as_u64).unwrap_or(1),
        clients: num(doc, "clients", 100.0) as u32,
        requests_per_client: num(doc, "requestsPerClient", 10.0) as u32,
        request_interval_ms: num(doc, "requestIntervalMs", 1000.0),
        stagger: doc.get("stagger").and_then(Value::as_bool).unwrap_or(true),
        layers: vec![layer; layers],
        backend: BackendModel {
            latency_ms: num(b, "latencyMs", 50.0),
            latency_jitter_ms: num(b, "latencyJitterMs", 0.0),
            error_rate: num(b, "errorRate", 0.0),
            outages: outages.unwrap_or_default(),
            capacity: b.get("capacity").and_then(Value::as_u64).map(|c| c as u32),
        },
        bucket_ms: num(doc, "bucketMs", 1000.0),
    })
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let text = fs::read_to_string(&args.scenario).map_err(|e| err(format!("{}: {e}", args.scenario.display())))?;
    let doc: Value = serde_json::from_str(&text)?;
    let policies = doc.get("policies").and_then(Value::as_object).ok_or_else(|| err("scenario has no \"policies\" object".into()))?;
    let bar = ProgressBar::new(policies.len() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let mut results: Vec<(String, Outcome)> = Vec::new();
    for (name, policy) in policies {
        bar.set_message(name.clone());
        let s = scenario(&doc, policy).map_err(|e| err(format!("policy {name:?}: {e}")))?;
        results.push((name.clone(), simulate(&s).map_err(|e| err(format!("policy {name:?}: {}", e.message)))?));
        bar.inc(1);
    }
    bar.finish_and_clear();

    println!("{:<28} {:>9} {:>13} {:>9} {:>9} {:>9} {:>11} {:>10}", "policy", "requests", "amplification", "success", "p50 ms", "p99 ms", "peak calls", "recovery");
    for (name, o) in &results {
        let s = &o.summary;
        let recovery = s.recovery_ms.map_or("never".to_string(), |r| format!("{:.1} s", r / 1000.0));
        println!(
            "{:<28} {:>9} {:>12.2}× {:>8.1}% {:>9.0} {:>9.0} {:>11} {:>10}",
            name, s.requests, s.amplification, s.success_rate * 100.0, s.p50_latency_ms, s.p99_latency_ms, s.peak_backend_calls, recovery
        );
    }
    fs::create_dir_all(&args.out)?;
    let svg = args.out.join("simulation.svg");
    chart(&svg, &results, num(&doc, "bucketMs", 1000.0))?;
    println!("chart: {}", svg.display());
    Ok(())
}

/// Three panels over time, one line per policy: backend calls, successful requests, and
/// requests refused by a breaker or a retry budget.
fn chart(path: &PathBuf, results: &[(String, Outcome)], bucket_ms: f64) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (960, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((3, 1));
    let per_second = 1000.0 / bucket_ms;
    let end_s = results.iter().map(|(_, o)| o.series.len() as f64 * bucket_ms / 1000.0).fold(1.0, f64::max);
    type Pick = fn(&seawall_core::sim::Bucket) -> u64;
    let views: [(&str, Pick); 3] = [
        ("backend calls per second", |b| b.backend_calls),
        ("successful requests per second", |b| b.succeeded),
        ("refused by breaker or budget per second", |b| b.breaker_rejections + b.budget_refusals),
    ];
    let colors = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    for (panel, (title, pick)) in panels.iter().zip(views) {
        let top = results.iter().flat_map(|(_, o)| o.series.iter().map(|b| pick(b) as f64 * per_second)).fold(1.0, f64::max);
        let mut c = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..end_s, 0f64..top * 1.1)?;
        c.configure_mesh().x_desc("time (s)").draw()?;
        for (i, (name, o)) in results.iter().enumerate() {
            let color = colors[i % colors.len()];
            let points: Vec<(f64, f64)> = o.series.iter().map(|b| (b.start_ms / 1000.0, pick(b) as f64 * per_second)).collect();
            c.draw_series(LineSeries::new(points, color.stroke_width(2)))?
                .label(name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        c.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.8)).draw()?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_scenario_runs_and_charts() {
        let dir = std::env::temp_dir().join(format!("seawall-sim-test-{}", std::process::id()));
        let args = Args { scenario: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/scenario.json")), out: dir.clone() };
        run(&args).unwrap();
        let svg = fs::read_to_string(dir.join("simulation.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("backend calls per second"));
        for name in ["naive immediate retries", "backoff + jitter + breaker", "... + retry budget"] {
            assert!(svg.contains(name), "legend has {name}");
        }
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn bad_policies_are_reported_by_name() {
        let doc: Value = serde_json::from_str(r#"{"backend":{},"policies":{"x":{"retry":{"maxAttempts":0}}}}"#).unwrap();
        let e = scenario(&doc, &doc["policies"]["x"]).unwrap_err();
        assert!(e.to_string().contains("maxAttempts"), "{e}");
    }
}
