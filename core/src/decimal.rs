//! Decimal text to the nearest `f64` (ties to even), as `str::parse::<f64>` does, in far fewer
//! bytes: the standard parser's tables and algorithms weigh ~16 KB in the wasm build, this ~2 KB.
//!
//! Two paths. The common one (Clinger's): at most 2^53 as a whole number of digits and a power of
//! ten up to 10^22, both exact in an `f64`, so one multiplication or division rounds once,
//! correctly. Every other number takes the exact path: the value as a fraction of big integers,
//! scaled by a power of two so its quotient has the 53 bits of a significand, and rounded on the
//! remainder. Slow (for numbers that options and headers rarely carry), but exact for any length.
//! The `json` fuzz target checks it against serde_json's own correctly rounded reader.

/// The value of `-?digits(.digits)?([eE][+-]?digits)?`; `None` for any other text. Out of range:
/// an infinity, or a zero, with the sign.
pub fn parse(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let negative = b.first() == Some(&b'-');
    let mut i = usize::from(negative);
    // The significant digits and the power of ten that scales them.
    let mut digits: Vec<u8> = Vec::new();
    let mut exp10: i64 = 0;
    // Leading zeros are not significant.
    let significant = |d: u8, digits: &mut Vec<u8>| {
        if !digits.is_empty() || d != b'0' {
            digits.push(d - b'0');
        }
    };
    let end = digit_run(b, i);
    if end == i {
        return None;
    }
    b[i..end].iter().for_each(|&d| significant(d, &mut digits));
    i = end;
    if b.get(i) == Some(&b'.') {
        let end = digit_run(b, i + 1);
        if end == i + 1 {
            return None;
        }
        b[i + 1..end].iter().for_each(|&d| significant(d, &mut digits));
        exp10 -= (end - i - 1) as i64;
        i = end;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        let minus = b.get(i) == Some(&b'-');
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digit_run(b, i);
        if end == i {
            return None;
        }
        // Saturates far beyond any f64's range: the value is then an infinity or a zero.
        let e = b[i..end].iter().fold(0i64, |e, &d| (e * 10 + i64::from(d - b'0')).min(1 << 40));
        exp10 += if minus { -e } else { e };
        i = end;
    }
    if i != b.len() {
        return None;
    }
    while digits.last() == Some(&0) {
        digits.pop();
        exp10 += 1;
    }
    let magnitude = value(&digits, exp10);
    Some(if negative { -magnitude } else { magnitude })
}

/// The end of the run of ASCII digits from `i` (`i` itself when there is none).
fn digit_run(b: &[u8], i: usize) -> usize {
    i + b.get(i..).map_or(0, |rest| rest.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// `digits × 10^exp10` (digits without leading or trailing zeros) to the nearest `f64`.
fn value(digits: &[u8], exp10: i64) -> f64 {
    if digits.is_empty() {
        return 0.0;
    }
    let n = digits.len() as i64;
    // The value lies in [10^(n-1+exp10), 10^(n+exp10)): beyond f64's largest (1.8e308), or at
    // most 1e-324, below half its smallest (4.9e-324).
    if n + exp10 > 310 {
        return f64::INFINITY;
    }
    if n + exp10 <= -324 {
        return 0.0;
    }
    if n <= 16 {
        let m = digits.iter().fold(0u64, |m, &d| m * 10 + u64::from(d));
        if m <= 1 << 53 && exp10.abs() <= 22 {
            let p = POW10[exp10.unsigned_abs() as usize];
            return if exp10 < 0 { m as f64 / p } else { m as f64 * p };
        }
    }
    exact(digits, exp10)
}

/// Powers of ten exact in an `f64`.
const POW10: [f64; 23] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/// The exact path: `num / den = digits × 10^exp10`, scaled by `2^shift` so the quotient has 53
/// bits (fewer for a subnormal), rounded on the remainder. The result is `q × 2^-shift`.
fn exact(digits: &[u8], exp10: i64) -> f64 {
    let mut num = Big::from_digits(digits);
    let mut den = Big::one();
    // |exp10| ≤ ~330 + the digits' count here (the range checks above).
    if exp10 >= 0 {
        num.mul_pow10(exp10 as usize);
    } else {
        den.mul_pow10(exp10.unsigned_abs() as usize);
    }
    // num / den is in [2^(k-1), 2^(k+1)); aim for [2^52, 2^53).
    let k = num.bits() as i64 - den.bits() as i64;
    let mut shift = 52 - k;
    scale(&mut num, &mut den, shift);
    if num.cmp_shifted(&den, 52) == core::cmp::Ordering::Less {
        num.shl(1);
        shift += 1;
    }
    // Below f64's normal range the last bit is worth 2^-1074: keep fewer bits.
    if shift > 1074 {
        den.shl((shift - 1074) as usize);
        shift = 1074;
    }
    let mut q = num.divide(&den);
    // Round half to even on the remainder (now in num): compare 2 × remainder with den.
    num.shl(1);
    match num.cmp_shifted(&den, 0) {
        core::cmp::Ordering::Greater => q += 1,
        core::cmp::Ordering::Equal => q += q & 1,
        core::cmp::Ordering::Less => {}
    }
    if q == 1 << 53 {
        q >>= 1;
        shift -= 1;
    }
    // q × 2^-shift with q in [2^52, 2^53) (or a subnormal's q < 2^52 at shift 1074): the
    // exponent field is 1075 - shift, one of it supplied by adding q's top bit; 2047 is infinity.
    let biased = 1074 - shift;
    if biased >= 2046 {
        return f64::INFINITY;
    }
    f64::from_bits(((biased as u64) << 52) + q)
}

/// `num × 2^shift / den` as `num' / den'` with both whole numbers.
fn scale(num: &mut Big, den: &mut Big, shift: i64) {
    if shift >= 0 {
        num.shl(shift as usize);
    } else {
        den.shl(shift.unsigned_abs() as usize);
    }
}

/// A big unsigned integer, 32-bit limbs, least significant first, no trailing zero limbs.
#[derive(Debug, Clone, PartialEq)]
struct Big(Vec<u32>);

impl Big {
    fn one() -> Big {
        Big(vec![1])
    }

    fn from_digits(digits: &[u8]) -> Big {
        let mut b = Big(Vec::new());
        for chunk in digits.chunks(9) {
            let v = chunk.iter().fold(0u32, |v, &d| v * 10 + u32::from(d));
            b.mul_add(10u32.pow(chunk.len() as u32), v);
        }
        b
    }

    /// self × m + a.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut e: usize) {
        while e > 0 {
            let step = e.min(9);
            self.mul_add(10u32.pow(step as u32), 0);
            e -= step;
        }
    }

    fn bits(&self) -> usize {
        self.0.last().map_or(0, |top| 32 * self.0.len() - top.leading_zeros() as usize)
    }

    fn shl(&mut self, n: usize) {
        let (limbs, bits) = (n / 32, n % 32);
        if bits > 0 {
            let mut carry = 0;
            for limb in &mut self.0 {
                let v = (*limb << bits) | carry;
                carry = *limb >> (32 - bits);
                *limb = v;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        if !self.0.is_empty() {
            self.0.splice(0..0, core::iter::repeat_n(0, limbs));
        }
    }

    /// self compared with `other × 2^n`.
    fn cmp_shifted(&self, other: &Big, n: usize) -> core::cmp::Ordering {
        let mut o = other.clone();
        o.shl(n);
        self.cmp(&o)
    }

    fn cmp(&self, other: &Big) -> core::cmp::Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// self − other (other ≤ self).
    fn sub(&mut self, other: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let v = i64::from(*limb) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            *limb = v as u32;
            borrow = i64::from(v < 0);
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    /// floor(self / den) when it is below 2^53, leaving the remainder in self (schoolbook
    /// division one bit at a time: 53 compare-and-subtract steps).
    fn divide(&mut self, den: &Big) -> u64 {
        let mut q = 0u64;
        for bit in (0..53).rev() {
            let mut d = den.clone();
            d.shl(bit);
            if self.cmp(&d) != core::cmp::Ordering::Less {
                self.sub(&d);
                q |= 1 << bit;
            }
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(text: &str) {
        let want: f64 = text.parse().unwrap();
        let got = parse(text).unwrap_or_else(|| panic!("refused {text}"));
        assert_eq!(got.to_bits(), want.to_bits(), "{text}: {got:e} vs {want:e}");
    }

    #[test]
    fn reads_as_the_standard_parser_does() {
        for text in [
            "0", "-0", "0.0", "1", "-1", "10", "0.1", "0.30000000000000004", "123456.789", "9007199254740992",
            "9007199254740993", "9007199254740995", "18014398509481985", "1e22", "1e23", "1.7976931348623157e308",
            "1.7976931348623158e308", "1.7976931348623159e308", "1e308", "1e309", "2.2250738585072014e-308",
            "2.2250738585072011e-308", "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
            "5e-324", "1e-324", "3e-324", "1e-400", "1e400", "0.000001", "1E+2", "1e-7", "2.5e300", "30000",
            "123456789012345678901234567890", "0.1000000000000000055511151231257827021181583404541015625",
            "0.10000000000000000555111512312578270211815834045410156250000001", "7.038531e-26",
            "1448997445238699", "2.225073858507201136057409796709131975934819546351645648e-308",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
            "00.5", "1.", "1e5", "-2.5e-3",
        ] {
            if text.parse::<f64>().is_ok() && !text.starts_with("00") && !text.ends_with('.') {
                same(text);
            }
        }
        // Exponents far out of range saturate to an infinity or a zero.
        assert_eq!(parse("1e999999999999999999999"), Some(f64::INFINITY));
        assert_eq!(parse("-1e999999999999999999999"), Some(f64::NEG_INFINITY));
        assert_eq!(parse("1e-999999999999999999999").map(f64::to_bits), Some(0));
        assert_eq!(parse("0e999999999").map(f64::to_bits), Some(0));
        assert_eq!(parse("-0.0").map(f64::to_bits), Some((-0.0f64).to_bits()));
    }

    #[test]
    fn refuses_what_is_not_a_decimal() {
        for text in ["", "-", ".5", "1.", "1e", "1e+", "e5", "1.2.3", "+1", "1x", " 1", "NaN", "inf", "0x10", "1_000"] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn agrees_with_the_standard_parser_on_many_numbers() {
        // Deterministic pseudo-random significands and exponents, and every neighbour of a few
        // halfway points (where rounding decides).
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = 1 + (x % 25) as usize;
            let m = format!("{:025}", x % 10u64.pow(19)) + &format!("{:06}", (x >> 40) % 1_000_000);
            let e = (x >> 20) as i64 % 700 - 350;
            same(&format!("{}e{e}", &m[m.len() - digits..]));
            same(&format!("{}.{}e{e}", &m[..1], &m[1..digits.max(2)]));
        }
        // Neighbours at the edges of the ranges, written shortest and with many digits (the
        // exact path), and the point halfway between 2^53 and the next f64 above it.
        for bits in [1u64, 2, 0x000F_FFFF_FFFF_FFFF, 0x0010_0000_0000_0000, 0x3FF0_0000_0000_0001, 0x7FEF_FFFF_FFFF_FFFF] {
            for x in [f64::from_bits(bits), f64::from_bits(bits + 1)].into_iter().filter(|x| x.is_finite()) {
                same(&format!("{x:e}"));
                same(&format!("{x:.60e}"));
                same(&format!("{x:.800e}"));
            }
        }
        // Just below a power of two, rounding up into the next binade (the quotient's carry).
        for text in ["9007199254740991.9", "1.99999999999999999999", "0.999999999999999999999999", "3.99999999999999999999e100", "1.9999999999999999999e-300"] {
            same(text);
        }
        same("9007199254740993.0000000000000000000000000000000000000000000000000000001");
        same("9007199254740992.9999999999999999999999999999999999999999999999999999999");
    }
}
