//! A fleet breaker's sync with the fleet's store, sans I/O: which Redis command to send next,
//! and what each reply means. Every shell and the fleet simulator run this one driver; they only
//! send the commands (and bound each round by a deadline).
//!
//! A round, in order: the marks this breaker has for the fleet (`opened` / `closed`, each with
//! the lease's release after `closed`), then one sync (write this replica's report, read
//! everybody's and the fleet's marks), then, when the breaker wants it, taking the probe lease.
//! A mark leaves the queue only once the store has it: a round that fails sends it again first.
//!
//! Call order: [`BreakerSync::next_command`] (it starts a round when none is under way; `None`:
//! the round is over); send the command and hand its reply to [`BreakerSync::handle_reply`], or
//! the round's failure (an error, or no answer within its deadline) to
//! [`BreakerSync::handle_failure`]; repeat. [`BreakerSync::marks_waiting`] says whether a round
//! should run before its interval (the breaker has news for the fleet).

use crate::breaker::CircuitBreaker;
use crate::error::{quote, Result, SeawallError};
use crate::fleet::{FleetMark, ReplicaReport};
use crate::json::Json;

/// One command for the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `EVAL` of the fleet's script `script` (see `fleet::store_json`) on `keys` with `args`.
    Eval { script: &'static str, keys: Vec<String>, args: Vec<Json> },
    /// `SET key value PX px NX`: answers whether it was set.
    SetIfAbsent { key: String, value: String, px: f64 },
}

impl Command {
    /// `{"eval": script, "keys": [...], "args": [...]}` or `{"set": key, "value", "px"}`.
    pub fn to_json(&self) -> Json {
        match self {
            Command::Eval { script, keys, args } => Json::obj(vec![
                ("eval", Json::from(*script)),
                ("keys", Json::Arr(keys.iter().map(|k| Json::from(k.as_str())).collect())),
                ("args", Json::Arr(args.clone())),
            ]),
            Command::SetIfAbsent { key, value, px } => {
                Json::obj(vec![("set", Json::from(key.as_str())), ("value", Json::from(value.as_str())), ("px", Json::Num(*px))])
            }
        }
    }
}

/// The store's answer to a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A mark's time on the store's clock.
    Marked(f64),
    /// The lease release was done (whether this replica still held it).
    Released,
    /// The sync: the fresh reports (with their ages) and the fleet's marks with their times.
    Synced { reports: Vec<ReplicaReport>, opened: Option<f64>, closed: Option<f64> },
    /// Whether the lease was taken.
    Leased(bool),
}

/// Where a round stands.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// No command out: the next is the first waiting mark, else the sync (a new round starts here).
    Marks,
    AwaitMark,
    /// The `closed` mark is in: its lease release comes next.
    Release,
    AwaitRelease,
    AwaitSync,
    /// The sync is in: the lease, if the breaker wants it.
    Lease,
    AwaitLease,
    /// Over: the next call ends the round.
    Done,
}

/// What the shells and metrics read of a sync.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SyncStatus {
    /// The store answered the last round (false: the breaker decides alone).
    pub shared: bool,
    pub replicas: u32,
    /// The last round succeeded.
    pub fresh: bool,
    pub syncs: u64,
    pub failed_syncs: u64,
}

impl SyncStatus {
    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("mode", Json::from(if self.shared { "shared" } else { "local" })),
            ("replicas", Json::from(self.replicas)),
            ("fresh", Json::from(self.fresh)),
            ("syncs", Json::Uint(self.syncs)),
            ("failedSyncs", Json::Uint(self.failed_syncs)),
        ])
    }
}

#[derive(Debug, Clone)]
pub struct BreakerSync {
    replica: String,
    reports_key: String,
    marks_key: String,
    lease_key: String,
    stale_after_ms: f64,
    seen_opened: f64,
    seen_closed: f64,
    /// Marks not yet in the store, oldest first (one of each kind at most).
    unsent: Vec<FleetMark>,
    step: Step,
    pub status: SyncStatus,
}

impl BreakerSync {
    /// The sync of the fleet breaker `name` under the key prefix `prefix`, for the replica `replica`.
    pub fn new(prefix: &str, name: &str, replica: &str, stale_after_ms: f64) -> BreakerSync {
        let key = |part: &str| format!("{prefix}:{{{name}}}:{part}");
        BreakerSync {
            replica: replica.to_string(),
            reports_key: key("reports"),
            marks_key: key("marks"),
            lease_key: key("lease"),
            stale_after_ms,
            seen_opened: f64::NEG_INFINITY,
            seen_closed: f64::NEG_INFINITY,
            unsent: Vec::new(),
            step: Step::Marks,
            // Shared until the store proves otherwise: a breaker decides alone once a round failed.
            status: SyncStatus { shared: true, ..SyncStatus::default() },
        }
    }

    fn collect_marks(&mut self, breaker: &mut CircuitBreaker) {
        for m in breaker.take_fleet_marks() {
            self.unsent.retain(|u| *u != m);
            self.unsent.push(m);
        }
    }

    /// Whether the breaker has news for the fleet (a round should run now).
    pub fn marks_waiting(&mut self, breaker: &mut CircuitBreaker) -> bool {
        self.collect_marks(breaker);
        !self.unsent.is_empty()
    }

    fn mark_command(&self, mark: FleetMark) -> Command {
        Command::Eval { script: "mark", keys: vec![self.marks_key.clone()], args: vec![Json::from(mark.as_str()), Json::Num(self.stale_after_ms)] }
    }

    fn sync_command(&self, breaker: &mut CircuitBreaker, now: f64) -> Command {
        let report = breaker.fleet_report(now).to_json().to_string();
        Command::Eval {
            script: "sync",
            keys: vec![self.reports_key.clone(), self.marks_key.clone()],
            args: vec![Json::from(self.replica.as_str()), Json::Str(report), Json::Num(self.stale_after_ms)],
        }
    }

    /// The next command of the round (starting one if none is under way); `None`: it is over.
    pub fn next_command(&mut self, breaker: &mut CircuitBreaker, now: f64) -> Option<Command> {
        match self.step {
            Step::Marks => {
                self.collect_marks(breaker);
                if let Some(&mark) = self.unsent.first() {
                    self.step = Step::AwaitMark;
                    return Some(self.mark_command(mark));
                }
                self.step = Step::AwaitSync;
                Some(self.sync_command(breaker, now))
            }
            Step::Release => {
                self.step = Step::AwaitRelease;
                Some(Command::Eval { script: "release", keys: vec![self.lease_key.clone()], args: vec![Json::from(self.replica.as_str())] })
            }
            Step::Lease if breaker.wants_probe_lease(now) => {
                self.step = Step::AwaitLease;
                Some(Command::SetIfAbsent { key: self.lease_key.clone(), value: self.replica.clone(), px: breaker.probe_lease_ms() })
            }
            Step::Lease | Step::Done => {
                self.step = Step::Marks;
                None
            }
            // A command is out and its reply has not come: nothing more to send.
            Step::AwaitMark | Step::AwaitRelease | Step::AwaitSync | Step::AwaitLease => None,
        }
    }

    /// Reads the store's answer to the last command from its wire form (Redis's answer as JSON:
    /// a mark's time, a release's count, the sync's `[now, ["age|report", …], [mark, time, …]]`,
    /// the lease's `true`/`"OK"` or `false`/`null`).
    pub fn read_reply(&self, reply: &Json) -> Result<Reply> {
        // (the driver itself takes typed replies: the simulator's store answers without JSON)
        let bad = |what: &str| SeawallError::wrong_type("reply", quote(&reply.to_string()), what);
        Ok(match self.step {
            Step::AwaitMark => Reply::Marked(number(reply).ok_or_else(|| bad("the mark's time"))?),
            Step::AwaitRelease => Reply::Released,
            Step::AwaitSync => {
                let (rows, marks) = match reply {
                    Json::Arr(parts) if parts.len() == 3 => (&parts[1], &parts[2]),
                    _ => return Err(bad("[now, reports, marks]")),
                };
                let mut reports = Vec::new();
                for (age_ms, json) in store_rows(rows, &bad)? {
                    let age_ms = Some(age_ms).filter(|a| *a >= 0.0).ok_or_else(|| bad("an age"))?;
                    reports.push(ReplicaReport { age_ms, ..report_of(&json).ok_or_else(|| bad("a report"))? });
                }
                let mark_at = |name: &str| -> Option<f64> {
                    let Json::Arr(items) = marks else { return None };
                    items.chunks(2).find(|p| p[0].as_str() == Some(name)).and_then(|p| p.get(1)).and_then(number)
                };
                Reply::Synced { reports, opened: mark_at("opened"), closed: mark_at("closed") }
            }
            Step::AwaitLease => Reply::Leased(matches!(reply, Json::Bool(true)) || reply.as_str() == Some("OK")),
            Step::Marks | Step::Release | Step::Lease | Step::Done => return Err(bad("no reply: no command is out")),
        })
    }

    /// The store's answer to the last command.
    pub fn handle_reply(&mut self, breaker: &mut CircuitBreaker, reply: Reply, now: f64) -> Result<()> {
        match (self.step, reply) {
            (Step::AwaitMark, Reply::Marked(at)) => {
                // Our own mark is not news to us.
                if self.unsent.first() == Some(&FleetMark::Closed) {
                    self.seen_closed = self.seen_closed.max(at);
                    self.step = Step::Release; // the mark leaves the queue once the lease is back
                } else {
                    self.seen_opened = self.seen_opened.max(at);
                    self.unsent.remove(0);
                    self.step = Step::Marks;
                }
            }
            (Step::AwaitRelease, Reply::Released) => {
                self.unsent.remove(0);
                self.step = Step::Marks;
            }
            (Step::AwaitSync, Reply::Synced { reports, opened, closed }) => {
                if !self.status.shared {
                    breaker.set_fleet_shared(now, true);
                }
                self.status = SyncStatus { shared: true, fresh: true, replicas: reports.len() as u32, syncs: self.status.syncs + 1, ..self.status };
                breaker.handle_fleet_reports(now, &reports);
                let opened = opened.unwrap_or(f64::NEG_INFINITY);
                if opened > self.seen_opened {
                    self.seen_opened = opened;
                    breaker.handle_fleet_opened(now);
                }
                let closed = closed.unwrap_or(f64::NEG_INFINITY);
                if closed > self.seen_closed {
                    self.seen_closed = closed;
                    breaker.handle_fleet_closed(now);
                }
                self.step = Step::Lease;
            }
            (Step::AwaitLease, Reply::Leased(taken)) => {
                if taken {
                    breaker.handle_probe_lease(now);
                }
                self.step = Step::Done;
            }
            _ => return Err(SeawallError::wrong_type("reply", "the answer to another command", "the answer to the command out")),
        }
        Ok(())
    }

    /// The round failed (an error, or no answer within its deadline): the breaker decides alone
    /// until one succeeds; the marks not yet in wait for the next round.
    pub fn handle_failure(&mut self, breaker: &mut CircuitBreaker, now: f64) {
        self.step = Step::Marks;
        self.status.fresh = false;
        self.status.failed_syncs += 1;
        if self.status.shared {
            self.status.shared = false;
            breaker.set_fleet_shared(now, false);
        }
    }
}

/// The store's rows (`"age|report"`, as the sync and quota scripts answer them): each report's
/// age and its JSON; `bad` words the error for what does not read.
fn store_rows(rows: &Json, bad: &dyn Fn(&str) -> SeawallError) -> Result<Vec<(f64, Json)>> {
    let mut out = Vec::new();
    if let Json::Arr(rows) = rows {
        for row in rows {
            let (age, report) = row.as_str().and_then(|r| r.split_once('|')).ok_or_else(|| bad("\"age|report\" rows"))?;
            let json = Json::parse(report).map_err(|_| bad("reports in JSON"))?;
            out.push((crate::decimal::parse(age).ok_or_else(|| bad("an age"))?, json));
        }
    }
    Ok(out)
}

/// A report without its age (the store's row carries the age apart).
pub fn report_of(v: &Json) -> Option<ReplicaReport> {
    Some(ReplicaReport { calls: v.u32_at("calls")?, failures: v.u32_at("failures")?, slow: v.u32_at("slow")?, consecutive_failures: v.u32_at("consecutiveFailures")?, age_ms: 0.0 })
}

/// A number, or a number's text (Redis answers integers; a client may hand them as text).
fn number(v: &Json) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str().and_then(crate::decimal::parse))
}

/// A shared quota's sync (a rate limiter's limit, a retry budget's trickle), sans I/O: one
/// command a round — this replica's demand in, its share and the others' demands out
/// (`fleet_quota.rs` decides what they mean). Call order as [`BreakerSync`]'s: `next_command`
/// (with this replica's report; `None`: the round is over), then `read_reply` and the policy's
/// sync, or `handle_failure`.
#[derive(Debug, Clone)]
pub struct QuotaSync {
    replica: String,
    key: String,
    limit: f64,
    stale_after_ms: f64,
    awaiting: bool,
    done: bool,
    pub syncs: u64,
    pub failed_syncs: u64,
}

impl QuotaSync {
    /// The sync of the policy `name`'s quota key `part` (`quota` for a limiter, `budget` for a
    /// retry budget) under `prefix`, sharing `limit` among the replicas.
    pub fn new(prefix: &str, name: &str, part: &str, replica: &str, limit: f64, stale_after_ms: f64) -> QuotaSync {
        QuotaSync {
            replica: replica.to_string(),
            key: format!("{prefix}:{{{name}}}:{part}"),
            limit,
            stale_after_ms,
            awaiting: false,
            done: false,
            syncs: 0,
            failed_syncs: 0,
        }
    }

    /// The round's command (this replica's report in it); `None` once it was answered.
    pub fn next_command(&mut self, report: String) -> Option<Command> {
        if self.done || self.awaiting {
            // Answered (or out and unanswered): the round is over; the next call starts one.
            self.done = false;
            self.awaiting = false;
            return None;
        }
        self.awaiting = true;
        Some(Command::Eval {
            script: "quota",
            keys: vec![self.key.clone()],
            args: vec![Json::from(self.replica.as_str()), Json::Str(report), Json::Num(self.limit), Json::Num(self.stale_after_ms)],
        })
    }

    /// The store's answer `[granted, ["age|report", …]]`: the share granted and the others'
    /// reports as the policy's sync reads them (`[{…, "ageMs"}, …]` in JSON).
    pub fn read_reply(&mut self, reply: &Json) -> Result<(f64, String)> {
        let bad = |what: &str| SeawallError::wrong_type("reply", quote(&reply.to_string()), what);
        if !self.awaiting {
            return Err(bad("no reply: no command is out"));
        }
        let (granted, rows) = match reply {
            Json::Arr(parts) if parts.len() == 2 => (number(&parts[0]).ok_or_else(|| bad("a granted share"))?, &parts[1]),
            _ => return Err(bad("[granted, reports]")),
        };
        let mut reports = Vec::new();
        for (age_ms, mut json) in store_rows(rows, &bad)? {
            if let Json::Obj(fields) = &mut json {
                fields.push(("ageMs".to_string(), Json::Num(age_ms)));
            }
            reports.push(json);
        }
        self.awaiting = false;
        self.done = true;
        self.syncs += 1;
        Ok((granted, Json::Arr(reports).to_string()))
    }

    /// The round failed (an error, or no answer by its deadline): the policy runs on an equal
    /// part until one succeeds.
    pub fn handle_failure(&mut self) {
        self.awaiting = false;
        self.done = false;
        self.failed_syncs += 1;
    }

    /// `{"syncs", "failedSyncs"}`.
    pub fn status_json(&self) -> Json {
        Json::obj(vec![("syncs", Json::Uint(self.syncs)), ("failedSyncs", Json::Uint(self.failed_syncs))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quota_round_is_one_command_and_its_reply() {
        let mut q = QuotaSync::new("seawall", "api", "quota", "r1", 10.0, 1000.0);
        let c = q.next_command("{\"demand\":3}".to_string()).unwrap();
        assert_eq!(c.to_json().to_string(), r#"{"eval":"quota","keys":["seawall:{api}:quota"],"args":["r1","{\"demand\":3}",10.0,1000.0]}"#);
        let (granted, reports) = q.read_reply(&Json::parse(r#"["4",["5|{\"demand\":2}"]]"#).unwrap()).unwrap();
        assert_eq!((granted, reports.as_str()), (4.0, r#"[{"demand":2.0,"ageMs":5.0}]"#));
        assert!(q.next_command(String::new()).is_none(), "answered: the round is over");
        assert!(q.next_command(String::new()).is_some(), "the next call starts one");
        assert!(q.read_reply(&Json::parse("[1]").unwrap()).is_err());
        q.handle_failure();
        assert!(q.read_reply(&Json::parse(r#"["1",[]]"#).unwrap()).is_err(), "no command out after a failure");
        assert_eq!(q.status_json().to_string(), r#"{"syncs":1,"failedSyncs":1}"#);
    }
}
