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
use seawall_simulator::hedge_sim::{outage_budget, read_hedging, simulate_hedging, HedgeScenario, TailBackend};
use seawall_simulator::overload_sim::{read_overload, simulate_overload, OverloadReport};
use seawall_simulator::scenario::read_scenarios;
use seawall_simulator::sim::{simulate, Outcome};

#[derive(Parser)]
#[command(version, about = "What a retry/breaker/budget policy does to a struggling backend, simulated on a virtual clock")]
struct Args {
    /// The scenario (JSON): clients, backend model, and the policies to compare.
    scenario: PathBuf,
    /// Where to write the chart.
    #[arg(long, default_value = "target/sim")]
    out: PathBuf,
    /// The scenario is a hedging one (examples/hedging.json): a long-tail backend, hedging
    /// policies compared by latency percentiles and extra backend calls.
    #[arg(long)]
    hedging: bool,
    /// The scenario is an overload one (examples/overload.json): offered load ramped to three
    /// times the capacity, a 2× slowdown, and the limits at the service's door compared.
    #[arg(long)]
    overload: bool,
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

fn run(args: &Args) -> Result<(), BoxError> {
    let text = fs::read_to_string(&args.scenario).map_err(|e| err(format!("{}: {e}", args.scenario.display())))?;
    if args.hedging {
        return hedging(&text);
    }
    if args.overload {
        return overload(&text);
    }
    // The core reads the file (the same reader as `simulate` in every binding).
    let scenarios = read_scenarios(&text).map_err(|e| err(e.message.clone()))?;
    let bar = ProgressBar::new(scenarios.len() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let mut results: Vec<(String, Outcome)> = Vec::new();
    let bucket_ms = scenarios.first().map_or(1000.0, |(_, s)| s.bucket_ms);
    for (name, s) in scenarios {
        bar.set_message(name.clone());
        let outcome = simulate(&s).map_err(|e| err(format!("policy {name:?}: {}", e.message)))?;
        results.push((name, outcome));
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
    chart(&svg, &results, bucket_ms)?;
    println!("chart: {}", svg.display());
    Ok(())
}

/// The hedging comparison: each policy's latency percentiles and extra backend calls on the
/// long tail (the outage left out), then through the outage against the budget's bound.
fn hedging(text: &str) -> Result<(), BoxError> {
    let s = read_hedging(text).map_err(|e| err(e.message.clone()))?;
    let tail = HedgeScenario { backend: TailBackend { outage: None, ..s.backend }, ..s.clone() };
    println!("long tail: {:.1}% of calls stall for {:.0} ms ({} requests)", s.backend.tail_rate * 100.0, s.backend.tail_ms, s.requests);
    println!("{:<22} {:>8} {:>8} {:>10} {:>12} {:>10}", "policy", "p50 ms", "p99 ms", "p99.9 ms", "extra calls", "hedge wins");
    for (name, config) in &s.policies {
        let r = simulate_hedging(&tail, config.as_ref());
        println!("{:<22} {:>8.1} {:>8.1} {:>10.1} {:>11.2}% {:>10}", name, r.p50_ms, r.p99_ms, r.p999_ms, r.extra_rate * 100.0, r.hedge_wins);
    }
    let Some(outage) = s.backend.outage else { return Ok(()) };
    println!(
        "outage: every call takes {:.0} ms from {:.0} s to {:.0} s",
        outage.latency_ms,
        outage.from_ms / 1000.0,
        outage.to_ms / 1000.0
    );
    println!("{:<22} {:>10} {:>12} {:>14} {:>10} {:>10}", "policy", "requests", "extra calls", "budget allows", "throttled", "budget no");
    for (name, config) in &s.policies {
        let Some(c) = config else { continue };
        let r = simulate_hedging(&s, Some(c));
        let bound = outage_budget(c, &outage, r.outage_requests).map_or("unbounded".to_string(), |b| format!("{b:.0}"));
        println!("{:<22} {:>10} {:>12} {:>14} {:>10} {:>10}", name, r.outage_requests, r.outage_extra_calls, bound, r.throttle_refused, r.budget_refused);
    }
    Ok(())
}

/// The overload comparison: per policy, each phase's admitted p50 and p99 against the no-load
/// p99, goodput against the capacity, requests shed, and how fast the limit settled.
fn overload(text: &str) -> Result<(), BoxError> {
    let s = read_overload(text).map_err(|e| err(e.message.clone()))?;
    let runs: Vec<(String, OverloadReport)> = s.policies.iter().map(|(name, door)| (name.clone(), simulate_overload(&s, door))).collect();
    let baseline = runs.iter().find(|(_, r)| r.phases[0].p99_ms > 0.0).map_or(0.0, |(_, r)| r.phases[0].p99_ms);
    println!("capacity {:.0} requests/s ({} workers × {} ms); no-load p99 {:.1} ms (first phase)", s.capacity(), s.workers, s.service_ms, baseline);
    for (i, p) in s.phases.iter().enumerate() {
        let ramp = if p.ramp { " (ramp)" } else { "" };
        println!("phase {} to {:.0} s: load {}×{}, backend {}× slower", i + 1, p.until_ms / 1000.0, p.load, ramp, p.slowdown);
        println!("  {:<16} {:>8} {:>8} {:>11} {:>8} {:>8} {:>6}", "policy", "p50 ms", "p99 ms", "p99/no-load", "goodput", "shed", "limit");
        for (name, r) in &runs {
            let ph = &r.phases[i];
            let limit = if ph.limit == 0 { "-".to_string() } else { ph.limit.to_string() };
            if ph.p99_ms == 0.0 {
                // Nothing answered in time: every request queued past the clients' timeout.
                println!("  {:<16} {:>8} {:>8} {:>11} {:>7.0}% {:>8} {:>6}", name, "-", "-", "-", ph.goodput * 100.0, ph.shed, limit);
            } else {
                println!("  {:<16} {:>8.1} {:>8.1} {:>10.2}× {:>7.0}% {:>8} {:>6}", name, ph.p50_ms, ph.p99_ms, ph.p99_ms / baseline, ph.goodput * 100.0, ph.shed, limit);
            }
        }
    }
    for (name, r) in &runs {
        if let Some(t) = r.settle_s {
            println!("{name}: the limit settled {t:.0} s (windows) after the slowdown began");
        }
    }
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
    type Pick = Box<dyn Fn(&seawall_simulator::sim::Bucket) -> f64>;
    let rate = |f: fn(&seawall_simulator::sim::Bucket) -> u64| -> Pick { Box::new(move |b| f(b) as f64 * per_second) };
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
        let args = Args { scenario: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/scenario.json")), out: dir.clone(), hedging: false, overload: false };
        run(&args).unwrap();
        let svg = fs::read_to_string(dir.join("simulation.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("backend calls per second") && svg.contains("breaker state"));
        for name in ["naive immediate retries", "backoff + jitter + breaker", "... + retry budget"] {
            assert!(svg.contains(name), "legend has {name}");
        }
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_bad_scenario_is_an_error_naming_the_field() {
        let path = std::env::temp_dir().join(format!("seawall-sim-bad-{}.json", std::process::id()));
        fs::write(&path, r#"{"backend":{},"policies":{"x":{"retry":{"maxAttempts":0}}}}"#).unwrap();
        let e = run(&Args { scenario: path.clone(), out: std::env::temp_dir(), hedging: false, overload: false }).unwrap_err();
        assert!(e.to_string().contains("policy \"x\": invalid option maxAttempts"), "{e}");
        fs::write(&path, r#"{"policies":{"x":{"delay":-1}}}"#).unwrap();
        let e = run(&Args { scenario: path.clone(), out: std::env::temp_dir(), hedging: true, overload: false }).unwrap_err();
        assert!(e.to_string().contains("policy \"x\": invalid option delay"), "{e}");
        let _ = fs::remove_file(path);
    }

    #[test]
    fn the_overload_example_runs() {
        let args = Args { scenario: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/overload.json")), out: std::env::temp_dir(), hedging: false, overload: true };
        run(&args).unwrap();
    }

    #[test]
    fn the_hedging_example_runs() {
        let args = Args { scenario: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/hedging.json")), out: std::env::temp_dir(), hedging: true, overload: false };
        run(&args).unwrap();
    }
}
