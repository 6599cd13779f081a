//! Retry-After values, as servers send them (outside input): never a panic; a value read is a
//! finite wait of at least 0; seconds do not depend on the clock, and a date's wait moves with
//! it; letter case does not matter.
#![no_main]
use libfuzzer_sys::fuzz_target;
use seawall_core::retry_after::parse;

// 2026-12-01T00:00:00Z; the first byte moves it by up to ~3 years either way.
const NOW: f64 = 1_796_083_200_000.0;

fuzz_target!(|data: &[u8]| {
    let Some((&shift, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let now = NOW + (f64::from(shift) - 128.0) * 86_400_000.0 * 9.0;
    let Some(ms) = parse(text, now) else {
        assert_eq!(parse(&text.to_ascii_uppercase(), now), None, "case matters for {text:?}");
        return;
    };
    assert!(ms.is_finite() && ms >= 0.0, "{text:?} gave {ms}");
    assert_eq!(parse(&text.to_ascii_lowercase(), now), Some(ms), "case matters for {text:?}");
    let later = parse(text, now + 1000.0).expect("read at one time, read a second later");
    if text.contains(':') {
        assert_eq!(later, (ms - 1000.0).max(0.0), "a date's wait moves with the clock: {text:?}");
    } else {
        assert_eq!(later, ms, "seconds do not depend on the clock: {text:?}");
    }
});
