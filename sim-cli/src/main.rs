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
use seawall_core::json::Json;
use seawall_core::options::{options_from_json, TimeUnit};
use seawall_core::sim::{simulate, BackendModel, Fault, LayerPolicy, Outcome, Scenario};
use seawall_core::{BreakerConfig, BudgetConfig, BulkheadConfig, RetryConfig, SeawallError};
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

type BoxError = Box<dyn std::error::Error>;

fn err(msg: String) -> BoxError {
    msg.into()
}

/// A finite, non-negative number at `key`, or `default` when absent; anything else is an error
/// that names the field and the value.
fn num(v: &Value, key: &str, default: f64) -> Result<f64, BoxError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(x) => x.as_f64().filter(|n| n.is_finite() && *n >= 0.0).ok_or_else(|| err(format!("\"{key}\" must be a non-negative number, got {x}"))),
    }
}

fn whole(v: &Value, key: &str, default: u64) -> Result<u64, BoxError> {
    let n = num(v, key, default as f64)?;
    if n.fract() != 0.0 || n > u32::MAX as f64 {
        return Err(err(format!("\"{key}\" must be a whole number, got {n}")));
    }
    Ok(n as u64)
}

fn window(w: &Value, what: &str) -> Result<(f64, f64), BoxError> {
    let start = w.get(0).or_else(|| w.get("from")).and_then(Value::as_f64);
    let end = w.get(1).or_else(|| w.get("to")).and_then(Value::as_f64);
    match (start, end) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() && a <= b => Ok((a, b)),
        _ => Err(err(format!("{what} must be [startMs, endMs] or {{\"from\", \"to\"}} with from <= to, got {w}"))),
    }
}

fn layer_policy(p: &Value) -> Result<LayerPolicy, SeawallError> {
    // The core reads options in its own JSON; the scenario file is read with serde_json.
    let opts = |key: &str| p.get(key).filter(|v| v.is_object()).and_then(|v| Json::parse(&v.to_string()).ok()).map(|j| options_from_json(&j));
    Ok(LayerPolicy {
        retry: match opts("retry") {
            Some(o) => RetryConfig::from_options(&o, TimeUnit::Millis)?,
            None => RetryConfig { max_attempts: 1, ..RetryConfig::default() },
        },
        budget: opts("budget").map(|o| BudgetConfig::from_options(&o, TimeUnit::Millis)).transpose()?,
        breaker: opts("circuitBreaker").map(|o| BreakerConfig::from_options(&o, TimeUnit::Millis)).transpose()?,
        bulkhead: opts("bulkhead").map(|o| BulkheadConfig::from_options(&o, TimeUnit::Millis)).transpose()?,
        attempt_timeout_ms: p.get("timeout").and_then(Value::as_f64),
    })
}

/// The scenario for one policy of the file.
fn scenario(doc: &Value, policy: &Value) -> Result<Scenario, BoxError> {
    let b = doc.get("backend").ok_or_else(|| err("scenario has no \"backend\"".into()))?;
    let list = |key: &str| b.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let outages = list("outages").iter().map(|w| window(w, "an outage")).collect::<Result<Vec<_>, _>>()?;
    let mut faults = Vec::new();
    for f in list("faults") {
        let (start_ms, end_ms) = window(&f, "a fault")?;
        let error_rate = num(&f, "errorRate", 0.0)?;
        if error_rate > 1.0 {
            return Err(err(format!("a fault's \"errorRate\" must be within [0, 1], got {error_rate}")));
        }
        faults.push(Fault { start_ms, end_ms, error_rate, extra_latency_ms: num(&f, "extraLatencyMs", 0.0)? });
    }
    let layers = whole(policy, "layers", 1)?;
    if !(1..=16).contains(&layers) {
        return Err(err(format!("\"layers\" must be within [1, 16], got {layers}")));
    }
    let layer = layer_policy(policy).map_err(|e| err(e.message))?;
    let error_rate = num(b, "errorRate", 0.0)?;
    if error_rate > 1.0 {
        return Err(err(format!("\"errorRate\" must be within [0, 1], got {error_rate}")));
    }
    Ok(Scenario {
        seed: whole(doc, "seed", 1)?,
        clients: whole(doc, "clients", 100)? as u32,
        requests_per_client: whole(doc, "requestsPerClient", 10)? as u32,
        request_interval_ms: num(doc, "requestIntervalMs", 1000.0)?,
        stagger: doc.get("stagger").and_then(Value::as_bool).unwrap_or(true),
        layers: vec![layer; layers as usize],
        backend: BackendModel {
            latency_ms: num(b, "latencyMs", 50.0)?,
            latency_jitter_ms: num(b, "latencyJitterMs", 0.0)?,
            error_rate,
            outages,
            faults,
            capacity: b.get("capacity").map(|_| whole(b, "capacity", 0)).transpose()?.map(|c| c as u32),
        },
        bucket_ms: num(doc, "bucketMs", 1000.0)?.max(1.0),
    })
}

fn run(args: &Args) -> Result<(), BoxError> {
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

    println!(
        "{:<28} {:>9} {:>13} {:>9} {:>8} {:>8} {:>11} {:>9} {:>9} {:>9} {:>10}",
        "policy", "requests", "amplification", "success", "p50 ms", "p99 ms", "peak calls", "breaker", "bulkhead", "budget", "recovery"
    );
    for (name, o) in &results {
        let s = &o.summary;
        let recovery = s.recovery_ms.map_or("never".to_string(), |r| format!("{:.1} s", r / 1000.0));
        println!(
            "{:<28} {:>9} {:>12.2}× {:>8.1}% {:>8.0} {:>8.0} {:>11} {:>9} {:>9} {:>9} {:>10}",
            name,
            s.requests,
            s.amplification,
            s.success_rate * 100.0,
            s.p50_latency_ms,
            s.p99_latency_ms,
            s.peak_backend_calls,
            s.breaker_rejections,
            s.bulkhead_rejections,
            s.budget_refusals,
            recovery
        );
    }
    println!("(breaker / bulkhead / budget: requests or retries each one refused)");
    fs::create_dir_all(&args.out)?;
    let svg = args.out.join("simulation.svg");
    chart(&svg, &results, num(&doc, "bucketMs", 1000.0)?.max(1.0))?;
    println!("chart: {}", svg.display());
    Ok(())
}

/// Five panels over time, one line per policy: backend calls (load), successful requests,
/// refusals by breaker, bulkhead or budget, the backend-side breaker's state (share of each
/// interval spent open; half-open counts half), and p99 latency.
fn chart(path: &PathBuf, results: &[(String, Outcome)], bucket_ms: f64) -> Result<(), BoxError> {
    let root = SVGBackend::new(path, (960, 1400)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((5, 1));
    let per_second = 1000.0 / bucket_ms;
    let end_s = results.iter().map(|(_, o)| o.series.len() as f64 * bucket_ms / 1000.0).fold(1.0, f64::max);
    type Pick = Box<dyn Fn(&seawall_core::sim::Bucket) -> f64>;
    let rate = |f: fn(&seawall_core::sim::Bucket) -> u64| -> Pick { Box::new(move |b| f(b) as f64 * per_second) };
    let views: [(&str, Pick); 5] = [
        ("backend calls per second (load)", rate(|b| b.backend_calls)),
        ("successful requests per second", rate(|b| b.succeeded)),
        ("refused per second (breaker + bulkhead + budget)", rate(|b| b.breaker_rejections + b.bulkhead_rejections + b.budget_refusals)),
        ("breaker state: 0 closed, 1 open (share of each interval; half-open counts 0.5)", Box::new(move |b| (b.breaker_open_ms + 0.5 * b.breaker_half_open_ms) / bucket_ms)),
        ("p99 latency of answered requests (ms)", Box::new(|b| b.p99_latency_ms)),
    ];
    let colors = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    for (panel, (title, pick)) in panels.iter().zip(views) {
        let top = results.iter().flat_map(|(_, o)| o.series.iter().map(&pick)).fold(1.0, f64::max);
        let mut c = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..end_s, 0f64..top * 1.1)?;
        c.configure_mesh().x_desc("time (s)").draw()?;
        for (i, (name, o)) in results.iter().enumerate() {
            let color = colors[i % colors.len()];
            let points: Vec<(f64, f64)> = o.series.iter().map(|b| (b.start_ms / 1000.0, pick(b))).collect();
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
        assert!(svg.starts_with("<svg") && svg.contains("backend calls per second") && svg.contains("breaker state"));
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
        for (doc, needle) in [
            (r#"{"clients":-3,"backend":{}}"#, "\"clients\" must be a non-negative number, got -3"),
            (r#"{"clients":2.5,"backend":{}}"#, "\"clients\" must be a whole number, got 2.5"),
            (r#"{"backend":{"errorRate":1.5}}"#, "\"errorRate\" must be within [0, 1], got 1.5"),
            (r#"{"backend":{"outages":[[5000,1000]]}}"#, "an outage must be [startMs, endMs]"),
            (r#"{"backend":{"faults":[{"from":0,"to":1,"errorRate":"x"}]}}"#, "\"errorRate\" must be a non-negative number, got \"x\""),
        ] {
            let doc: Value = serde_json::from_str(doc).unwrap();
            let e = scenario(&doc, &serde_json::json!({})).unwrap_err();
            assert!(e.to_string().contains(needle), "{e} should contain {needle}");
        }
        let doc: Value = serde_json::from_str(r#"{"backend":{}}"#).unwrap();
        let e = scenario(&doc, &serde_json::json!({"layers": 0})).unwrap_err();
        assert!(e.to_string().contains("\"layers\" must be within [1, 16], got 0"), "{e}");
        let e = scenario(&doc, &serde_json::json!({"bulkhead": {"maxConcurrent": 0}})).unwrap_err();
        assert!(e.to_string().contains("maxConcurrent"), "{e}");
    }
}
