//! The policy simulator, on top of the core's machines (it is not part of the core, which keeps
//! only the state machines the bindings ship): [`sim`] runs layered policies against a modelled
//! backend in simulated time, [`scenario`] reads scenario files, and [`fleet_sim`] runs a fleet
//! of replicas sharing one breaker through the core's sync driver. Node and Python reach it
//! through their `simulate` (the browser build leaves it out); `seawall-sim` is its command line.

pub mod fleet_sim;
pub mod hedge_sim;
pub mod overload_sim;
pub mod scenario;
pub mod sim;

/// Runs a scenario file ([`scenario`]'s format) through the simulator, every policy of it:
/// `{"policies": [{"name", "summary", "series"}]}`.
pub fn simulate(scenario_json: &str) -> seawall_core::Result<String> {
    scenario::simulate_file(scenario_json)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_scenario_runs_every_policy() {
        let scenario = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/scenario.json")).unwrap();
        let report = super::simulate(&scenario).unwrap();
        let parsed = seawall_core::json::Json::parse(&report).unwrap();
        assert!(matches!(parsed.get("policies"), Some(seawall_core::json::Json::Arr(p)) if !p.is_empty()), "{report}");
    }
}
