//! The core's JSON reader against serde_json: the same texts accepted (below the depth limit),
//! the same values read, and what it prints reads back as the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use seawall_core::json::Json;

fn same(ours: &Json, theirs: &serde_json::Value) -> bool {
    use serde_json::Value as V;
    match (ours, theirs) {
        (Json::Null, V::Null) => true,
        (Json::Bool(a), V::Bool(b)) => a == b,
        (Json::Uint(a), V::Number(b)) => b.as_u64() == Some(*a) || b.as_f64() == Some(*a as f64),
        (Json::Num(a), V::Number(b)) => b.as_f64().is_some_and(|b| b == *a || (b.is_infinite() && a.is_infinite())),
        (Json::Str(a), V::String(b)) => a == b,
        (Json::Arr(a), V::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Json::Obj(a), V::Object(b)) => a.len() == b.len() && a.iter().zip(b).all(|((k, x), (l, y))| k == l && same(x, y)),
        _ => false,
    }
}

fn finite(j: &Json) -> bool {
    match j {
        Json::Num(x) => x.is_finite(),
        Json::Arr(a) => a.iter().all(finite),
        Json::Obj(o) => o.iter().all(|(_, v)| finite(v)),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ours = Json::parse(text);
    // serde_json refuses numbers out of f64's range; ours reads them as infinities (the options
    // reader then names them out of range). Deep nesting: both refuse at 128, counted alike.
    let theirs: Result<serde_json::Value, _> = serde_json::from_str(text);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert!(same(a, b), "read differently: {text:?}\nours   {a:?}\nserde  {b:?}"),
        // (A later duplicate key may have replaced the infinite value, so serde's message is the test.)
        (Ok(_), Err(e)) => {
            let e = e.to_string();
            assert!(e.starts_with("number out of range") || e.contains("recursion limit"), "only ours accepts {text:?}: {e}")
        }
        (Err(e), Ok(_)) => assert!(e.message == "nested too deeply", "only serde accepts {text:?}: {e}"),
        (Err(_), Err(_)) => {}
    }
    if let Ok(v) = ours {
        let printed = v.to_string();
        let again = Json::parse(&printed).expect("what we print reads back");
        assert_eq!(again.to_string(), printed, "printing is stable");
        if finite(&v) {
            assert_eq!(again, v, "round trip of {text:?}");
        }
    }
});
