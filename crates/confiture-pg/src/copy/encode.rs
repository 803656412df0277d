//! Text values → PostgreSQL's binary send format, for the replaced columns of a binary COPY.
//!
//! Each encoder parses the text as PostgreSQL's output function prints it (with `DateStyle =
//! ISO`, `TimeZone = UTC`, `extra_float_digits = 3`) and accepts the common input spellings
//! besides, then writes the bytes the type's `*_send` function would (the field bytes, without
//! the length prefix). Values that PostgreSQL would reject are rejected with a message.
//!
//! Timestamps `with time zone` written without an offset are taken as UTC. Timestamps `without
//! time zone` ignore an offset, as PostgreSQL does.

use std::net::IpAddr;

/// A column type a new text value can be encoded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryType {
    /// `text`, `character varying`, `character`, `name`, `citext`, and enums (their binary form
    /// is the UTF-8 text).
    Text,
    Uuid,
    Int2,
    Int4,
    Int8,
    Bool,
    Float4,
    Float8,
    Numeric,
    Date,
    Timestamp,
    Timestamptz,
    Json,
    Jsonb,
    Inet,
    Cidr,
}

impl BinaryType {
    /// The encoder for a type named as `format_type(oid, NULL)` prints it (a type modifier such
    /// as `(10,2)` and the usual aliases are accepted too). `None` for other types, including
    /// arrays; the caller maps enums (to [`BinaryType::Text`]) and domains (to their base type).
    pub fn of(type_name: &str) -> Option<BinaryType> {
        let mut name = String::with_capacity(type_name.len());
        let mut depth = 0u32;
        for c in type_name.trim().chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = depth.checked_sub(1)?,
                _ if depth > 0 => {}
                c if c.is_whitespace() => {
                    if !name.ends_with(' ') {
                        name.push(' ');
                    }
                }
                c => name.push(c),
            }
        }
        let name = name.trim();
        let name = match name.rsplit_once('.') {
            Some((_, "citext")) => "citext",
            _ => name,
        };
        Some(match name {
            "text" | "character varying" | "varchar" | "character" | "bpchar" | "name"
            | "citext" => BinaryType::Text,
            "uuid" => BinaryType::Uuid,
            "smallint" | "int2" => BinaryType::Int2,
            "integer" | "int" | "int4" => BinaryType::Int4,
            "bigint" | "int8" => BinaryType::Int8,
            "boolean" | "bool" => BinaryType::Bool,
            "real" | "float4" => BinaryType::Float4,
            "double precision" | "float8" => BinaryType::Float8,
            "numeric" | "decimal" => BinaryType::Numeric,
            "date" => BinaryType::Date,
            "timestamp without time zone" | "timestamp" => BinaryType::Timestamp,
            "timestamp with time zone" | "timestamptz" => BinaryType::Timestamptz,
            "json" => BinaryType::Json,
            "jsonb" => BinaryType::Jsonb,
            "inet" => BinaryType::Inet,
            "cidr" => BinaryType::Cidr,
            _ => return None,
        })
    }

    /// The SQL name of the type, for messages.
    pub fn sql_name(self) -> &'static str {
        match self {
            BinaryType::Text => "text",
            BinaryType::Uuid => "uuid",
            BinaryType::Int2 => "smallint",
            BinaryType::Int4 => "integer",
            BinaryType::Int8 => "bigint",
            BinaryType::Bool => "boolean",
            BinaryType::Float4 => "real",
            BinaryType::Float8 => "double precision",
            BinaryType::Numeric => "numeric",
            BinaryType::Date => "date",
            BinaryType::Timestamp => "timestamp without time zone",
            BinaryType::Timestamptz => "timestamp with time zone",
            BinaryType::Json => "json",
            BinaryType::Jsonb => "jsonb",
            BinaryType::Inet => "inet",
            BinaryType::Cidr => "cidr",
        }
    }

    /// Appends `text` in the type's binary send format (without the length prefix).
    pub fn encode(self, text: &str, out: &mut Vec<u8>) -> Result<(), String> {
        match self {
            BinaryType::Text | BinaryType::Json => {
                no_nul(text)?;
                out.extend_from_slice(text.as_bytes());
            }
            BinaryType::Jsonb => {
                no_nul(text)?;
                out.push(1);
                out.extend_from_slice(text.as_bytes());
            }
            BinaryType::Int2 => {
                let v = parse_int(text, i16::MIN.into(), i16::MAX.into(), self)?;
                out.extend_from_slice(&(v as i16).to_be_bytes());
            }
            BinaryType::Int4 => {
                let v = parse_int(text, i32::MIN.into(), i32::MAX.into(), self)?;
                out.extend_from_slice(&(v as i32).to_be_bytes());
            }
            BinaryType::Int8 => {
                let v = parse_int(text, i64::MIN, i64::MAX, self)?;
                out.extend_from_slice(&v.to_be_bytes());
            }
            BinaryType::Bool => out.push(u8::from(parse_bool(text)?)),
            BinaryType::Float4 => {
                let v: f32 = parse_float(text, self)?;
                out.extend_from_slice(&v.to_bits().to_be_bytes());
            }
            BinaryType::Float8 => {
                let v: f64 = parse_float(text, self)?;
                out.extend_from_slice(&v.to_bits().to_be_bytes());
            }
            BinaryType::Numeric => encode_numeric(text, out)?,
            BinaryType::Uuid => out.extend_from_slice(&parse_uuid(text)?),
            BinaryType::Date => out.extend_from_slice(&parse_date(text)?.to_be_bytes()),
            BinaryType::Timestamp => {
                out.extend_from_slice(&parse_timestamp(text, false)?.to_be_bytes())
            }
            BinaryType::Timestamptz => {
                out.extend_from_slice(&parse_timestamp(text, true)?.to_be_bytes())
            }
            BinaryType::Inet => encode_inet(text, false, out)?,
            BinaryType::Cidr => encode_inet(text, true, out)?,
        }
        Ok(())
    }
}

fn invalid(t: BinaryType, text: &str) -> String {
    format!("invalid input syntax for type {}: \"{text}\"", t.sql_name())
}

fn out_of_range(t: BinaryType, text: &str) -> String {
    format!("value \"{text}\" is out of range for type {}", t.sql_name())
}

fn no_nul(text: &str) -> Result<(), String> {
    if text.as_bytes().contains(&0) {
        return Err("text cannot contain a NUL character".into());
    }
    Ok(())
}

/// PostgreSQL's `isspace` set.
fn trim_pg(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'))
}

/// Digits in `radix` with single underscores between them; `None` if malformed or if the
/// magnitude exceeds `limit`.
fn parse_digits(s: &str, radix: u32, limit: u128) -> Result<u128, bool> {
    let b = s.as_bytes();
    if b.is_empty() || b[0] == b'_' || b[b.len() - 1] == b'_' {
        return Err(false);
    }
    let mut v: u128 = 0;
    let mut prev_underscore = false;
    for &c in b {
        if c == b'_' {
            if prev_underscore {
                return Err(false);
            }
            prev_underscore = true;
            continue;
        }
        prev_underscore = false;
        let d = (c as char).to_digit(radix).ok_or(false)?;
        v = v * u128::from(radix) + u128::from(d);
        if v > limit {
            // Keep checking the syntax: a malformed value is a syntax error first.
            return if b.iter().all(|&c| c == b'_' || (c as char).is_digit(radix)) {
                Err(true)
            } else {
                Err(false)
            };
        }
    }
    Ok(v)
}

/// An integer as `int2in`/`int4in`/`int8in` read it (PostgreSQL 16: also `0x`, `0o`, `0b`
/// prefixes and underscores).
fn parse_int(text: &str, min: i64, max: i64, t: BinaryType) -> Result<i64, String> {
    let s = trim_pg(text);
    let (neg, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = match s.get(..2) {
        Some("0x" | "0X") => (16, &s[2..]),
        Some("0o" | "0O") => (8, &s[2..]),
        Some("0b" | "0B") => (2, &s[2..]),
        _ => (10, s),
    };
    let limit = if neg {
        min.unsigned_abs() as u128
    } else {
        max as u128
    };
    match parse_digits(digits, radix, limit) {
        Ok(v) => Ok(if neg {
            (v as i128).wrapping_neg() as i64
        } else {
            v as i64
        }),
        Err(true) => Err(out_of_range(t, text)),
        Err(false) => Err(invalid(t, text)),
    }
}

/// A boolean as `boolin` reads it: unique prefixes of true/false/yes/no, on/off, 1/0.
fn parse_bool(text: &str) -> Result<bool, String> {
    let s = trim_pg(text).to_ascii_lowercase();
    let prefix = |word: &str, min: usize| s.len() >= min && word.starts_with(s.as_str());
    if prefix("true", 1) || prefix("yes", 1) || prefix("on", 2) || s == "1" {
        Ok(true)
    } else if prefix("false", 1) || prefix("no", 1) || prefix("off", 2) || s == "0" {
        Ok(false)
    } else {
        Err(invalid(BinaryType::Bool, text))
    }
}

/// A float as `float4in`/`float8in` read it: decimal, `NaN`, `Infinity`, `inf`, with a sign;
/// overflow and underflow to zero are errors.
fn parse_float<F>(text: &str, t: BinaryType) -> Result<F, String>
where
    F: std::str::FromStr + Into<f64> + Copy,
{
    let s = trim_pg(text);
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let word = unsigned.to_ascii_lowercase();
    let special = matches!(word.as_str(), "nan" | "inf" | "infinity");
    if !special
        && !unsigned
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return Err(invalid(t, text));
    }
    if word == "nan" && unsigned.len() != s.len() {
        return Err(invalid(t, text));
    }
    let v: F = s.parse().map_err(|_| invalid(t, text))?;
    let f: f64 = v.into();
    if !special {
        if f.is_infinite() {
            return Err(out_of_range(t, text));
        }
        let mantissa = unsigned.split(['e', 'E']).next().unwrap_or("");
        if f == 0.0 && mantissa.bytes().any(|c| matches!(c, b'1'..=b'9')) {
            return Err(out_of_range(t, text));
        }
    }
    Ok(v)
}

/// A UUID: 32 hex digits, optionally in braces, with hyphens between groups of digits.
fn parse_uuid(text: &str) -> Result<[u8; 16], String> {
    let err = || invalid(BinaryType::Uuid, text);
    let s = match text.strip_prefix('{') {
        Some(inner) => inner.strip_suffix('}').ok_or_else(err)?,
        None => text,
    };
    let mut out = [0u8; 16];
    let mut n = 0;
    let mut prev_hyphen = true; // no leading hyphen
    for c in s.bytes() {
        if c == b'-' {
            if prev_hyphen || n % 2 == 1 {
                return Err(err());
            }
            prev_hyphen = true;
            continue;
        }
        prev_hyphen = false;
        let d = (c as char).to_digit(16).ok_or_else(err)? as u8;
        if n == 32 {
            return Err(err());
        }
        out[n / 2] |= if n % 2 == 0 { d << 4 } else { d };
        n += 1;
    }
    if n != 32 || prev_hyphen {
        return Err(err());
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// numeric

const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;
const NUMERIC_DSCALE_MAX: i64 = 0x3FFF;
const DEC_DIGITS: i64 = 4;

/// A numeric as `numeric_in` reads it, in `numeric_send`'s format: int16 ndigits, weight,
/// sign, dscale, then the base-10000 digits, with leading and trailing zero digits stripped as
/// in a stored value.
fn encode_numeric(text: &str, out: &mut Vec<u8>) -> Result<(), String> {
    let t = BinaryType::Numeric;
    let s = trim_pg(text);
    let special = |sign: u16, out: &mut Vec<u8>| {
        for v in [0u16, 0, sign, 0] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    };
    match s.to_ascii_lowercase().as_str() {
        "nan" => {
            special(NUMERIC_NAN, out);
            return Ok(());
        }
        "infinity" | "+infinity" | "inf" | "+inf" => {
            special(NUMERIC_PINF, out);
            return Ok(());
        }
        "-infinity" | "-inf" => {
            special(NUMERIC_NINF, out);
            return Ok(());
        }
        _ => {}
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut neg = false;
    if let Some(&c) = b.first() {
        if c == b'+' || c == b'-' {
            neg = c == b'-';
            i = 1;
        }
    }
    // Decimal digits as written, with the weight of the first (dweight) and the count after
    // the point (dscale).
    let mut dec: Vec<u8> = Vec::with_capacity(b.len() + 8);
    let mut dweight: i64 = -1;
    let mut dscale: i64 = 0;
    let mut have_dp = false;
    let mut prev_digit = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'0'..=b'9' => {
                dec.push(c - b'0');
                if have_dp {
                    dscale += 1;
                } else {
                    dweight += 1;
                }
                prev_digit = true;
            }
            b'.' if !have_dp => {
                have_dp = true;
                prev_digit = false;
            }
            b'_' if prev_digit && b.get(i + 1).is_some_and(u8::is_ascii_digit) => {}
            _ => break,
        }
        i += 1;
    }
    if dec.is_empty() {
        return Err(invalid(t, text));
    }
    if i < b.len() {
        if b[i] != b'e' && b[i] != b'E' {
            return Err(invalid(t, text));
        }
        let exp = &s[i + 1..];
        let exponent: i64 = match exp.parse::<i64>() {
            Ok(e) if !exp.starts_with('+') || exp.len() > 1 => e,
            _ => {
                let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
                    return Err("value overflows numeric format".into());
                }
                return Err(invalid(t, text));
            }
        };
        if exponent.abs() >= i64::from(i32::MAX / 2) {
            return Err("value overflows numeric format".into());
        }
        dweight += exponent;
        dscale = (dscale - exponent).max(0);
    }

    // Regroup in base 10000, aligned so the decimal point falls between digits.
    let weight = if dweight >= 0 {
        (dweight + 1 + DEC_DIGITS - 1) / DEC_DIGITS - 1
    } else {
        -((-dweight - 1) / DEC_DIGITS + 1)
    };
    let offset = ((weight + 1) * DEC_DIGITS - (dweight + 1)) as usize;
    let ndigits = (dec.len() + offset).div_ceil(DEC_DIGITS as usize);
    let at = out.len();
    out.extend_from_slice(&[0; 8]);
    let digit = |k: usize| -> u16 {
        let mut v = 0u16;
        for j in 0..DEC_DIGITS as usize {
            let p = (k * DEC_DIGITS as usize + j).wrapping_sub(offset);
            v = v * 10 + u16::from(dec.get(p).copied().unwrap_or(0));
        }
        v
    };
    let first = (0..ndigits).find(|&k| digit(k) != 0);
    let (n, weight, sign) = match first {
        None => (0, 0, NUMERIC_POS),
        Some(first) => {
            let last = (0..ndigits).rev().find(|&k| digit(k) != 0).unwrap_or(first);
            for k in first..=last {
                out.extend_from_slice(&digit(k).to_be_bytes());
            }
            (
                last - first + 1,
                weight - first as i64,
                if neg { NUMERIC_NEG } else { NUMERIC_POS },
            )
        }
    };
    if weight > i64::from(i16::MAX) || weight < i64::from(i16::MIN) || dscale > NUMERIC_DSCALE_MAX {
        out.truncate(at);
        return Err("value overflows numeric format".into());
    }
    out[at..at + 2].copy_from_slice(&(n as u16).to_be_bytes());
    out[at + 2..at + 4].copy_from_slice(&(weight as i16).to_be_bytes());
    out[at + 4..at + 6].copy_from_slice(&sign.to_be_bytes());
    out[at + 6..at + 8].copy_from_slice(&(dscale as u16).to_be_bytes());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// date and timestamps

/// Julian day number of 2000-01-01, PostgreSQL's epoch.
const POSTGRES_EPOCH_JDATE: i64 = 2_451_545;
const USECS_PER_DAY: i64 = 86_400_000_000;
/// The first date not allowed (5874898-01-01), in days since 2000-01-01; the first timestamp
/// not allowed (294277-01-01) and the first allowed (4714-11-24 BC), in microseconds.
const DATE_END: i64 = 2_147_483_494 - POSTGRES_EPOCH_JDATE;
const TIMESTAMP_END: i64 = 9_223_371_331_200_000_000;
const TIMESTAMP_MIN: i64 = -211_813_488_000_000_000;

/// PostgreSQL's `date2j`: the Julian day number of a proleptic Gregorian date (astronomical
/// year numbering: 1 BC is year 0).
fn date2j(year: i64, month: i64, day: i64) -> i64 {
    let (y, m) = if month > 2 {
        (year + 4800, month + 1)
    } else {
        (year + 4799, month + 13)
    };
    let century = y.div_euclid(100);
    let mut julian = y * 365 - 32167;
    julian += y.div_euclid(4) - century + century.div_euclid(4);
    julian += 7834 * m / 256 + day;
    julian
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

enum DateTime {
    PlusInfinity,
    MinusInfinity,
    At {
        /// Days since 2000-01-01.
        days: i64,
        /// Microseconds since midnight (up to a whole day).
        time: i64,
        /// The UTC offset in seconds, if written.
        offset: Option<i64>,
    },
}

/// A small cursor over ASCII text.
struct Lexer<'a> {
    b: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn spaces(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
        self.i > start
    }

    /// Up to `max` decimal digits (at least one); the value and how many.
    fn number(&mut self, max: usize) -> Option<(i64, usize)> {
        let start = self.i;
        let mut v: i64 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            if self.i - start == max {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
            self.i += 1;
        }
        let n = self.i - start;
        (n > 0).then_some((v, n))
    }

    /// A case-insensitive keyword.
    fn word(&mut self, w: &str) -> bool {
        let end = self.i + w.len();
        if end <= self.b.len() && self.b[self.i..end].eq_ignore_ascii_case(w.as_bytes()) {
            self.i = end;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]][ ][Z|±HH[[:]MM[[:]SS]]][ BC|AD]`, or `infinity`,
/// `-infinity`, `epoch`.
fn parse_datetime(text: &str, t: BinaryType) -> Result<DateTime, String> {
    let err = || invalid(t, text);
    let range = || format!("date/time field value out of range: \"{text}\"");
    let s = trim_pg(text);
    match s.to_ascii_lowercase().as_str() {
        "infinity" | "+infinity" => return Ok(DateTime::PlusInfinity),
        "-infinity" => return Ok(DateTime::MinusInfinity),
        "epoch" => {
            return Ok(DateTime::At {
                days: date2j(1970, 1, 1) - POSTGRES_EPOCH_JDATE,
                time: 0,
                offset: Some(0),
            })
        }
        _ => {}
    }
    let mut lx = Lexer {
        b: s.as_bytes(),
        i: 0,
    };
    let (year, _) = lx.number(9).ok_or_else(err)?;
    if !lx.eat(b'-') {
        return Err(err());
    }
    let (month, _) = lx.number(2).ok_or_else(err)?;
    if !lx.eat(b'-') {
        return Err(err());
    }
    let (day, _) = lx.number(2).ok_or_else(err)?;

    let mut time = 0i64;
    let save = lx.i;
    let sep = lx.eat(b'T') || lx.eat(b't') || lx.spaces();
    let mut have_time = false;
    if sep {
        if let Some((hour, _)) = lx.number(2) {
            if !lx.eat(b':') {
                return Err(err());
            }
            let (minute, _) = lx.number(2).ok_or_else(err)?;
            let mut second = 0;
            let mut micros = 0;
            if lx.eat(b':') {
                second = lx.number(2).ok_or_else(err)?.0;
                if lx.eat(b'.') {
                    let start = lx.i;
                    while matches!(lx.peek(), Some(b'0'..=b'9')) {
                        lx.i += 1;
                    }
                    let frac = &lx.b[start..lx.i];
                    for k in 0..6 {
                        micros = micros * 10 + frac.get(k).map_or(0, |&c| i64::from(c - b'0'));
                    }
                    if frac.get(6).is_some_and(|&c| c >= b'5') {
                        micros += 1;
                    }
                }
            }
            if hour > 24
                || minute > 59
                || second > 60
                || (hour == 24 && (minute, second, micros) != (0, 0, 0))
            {
                return Err(range());
            }
            time = ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros;
            have_time = true;
        } else {
            lx.i = save;
        }
    }

    let mut offset = None;
    let save = lx.i;
    lx.spaces();
    if lx.eat(b'Z') || lx.eat(b'z') || lx.word("UTC") || lx.word("GMT") {
        offset = Some(0);
    } else if have_time && matches!(lx.peek(), Some(b'+' | b'-')) {
        let neg = lx.peek() == Some(b'-');
        lx.i += 1;
        let (hh, n) = lx.number(4).ok_or_else(err)?;
        let (mut h, mut m, mut sec) = (hh, 0, 0);
        if n > 2 {
            // ±HHMM
            if n != 4 {
                return Err(err());
            }
            (h, m) = (hh / 100, hh % 100);
        } else if lx.eat(b':') {
            m = lx.number(2).ok_or_else(err)?.0;
            if lx.eat(b':') {
                sec = lx.number(2).ok_or_else(err)?.0;
            }
        }
        if h > 15 || m > 59 || sec > 59 {
            return Err(format!("time zone displacement out of range: \"{text}\""));
        }
        let v = (h * 60 + m) * 60 + sec;
        offset = Some(if neg { -v } else { v });
    } else {
        lx.i = save;
    }

    let save = lx.i;
    lx.spaces();
    let bc = if lx.word("BC") {
        true
    } else {
        if !lx.word("AD") {
            lx.i = save;
        }
        false
    };
    if !lx.done() {
        return Err(err());
    }

    if year == 0 || !(1..=12).contains(&month) {
        return Err(range());
    }
    let year = if bc { 1 - year } else { year };
    if day < 1 || day > days_in_month(year, month) {
        return Err(range());
    }
    if year < -4713 {
        return Err(out_of_range(t, text));
    }
    let days = date2j(year, month, day) - POSTGRES_EPOCH_JDATE;
    Ok(DateTime::At { days, time, offset })
}

/// A date as days since 2000-01-01 (`date_send`).
fn parse_date(text: &str) -> Result<i32, String> {
    let t = BinaryType::Date;
    match parse_datetime(text, t)? {
        DateTime::PlusInfinity => Ok(i32::MAX),
        DateTime::MinusInfinity => Ok(i32::MIN),
        DateTime::At { days, .. } => {
            if days + POSTGRES_EPOCH_JDATE < 0 || days >= DATE_END {
                return Err(format!("date out of range: \"{text}\""));
            }
            Ok(days as i32)
        }
    }
}

/// A timestamp as microseconds since 2000-01-01 00:00:00 (UTC for `timestamptz`)
/// (`timestamp_send`, `timestamptz_send`).
fn parse_timestamp(text: &str, tz: bool) -> Result<i64, String> {
    let t = if tz {
        BinaryType::Timestamptz
    } else {
        BinaryType::Timestamp
    };
    match parse_datetime(text, t)? {
        DateTime::PlusInfinity => Ok(i64::MAX),
        DateTime::MinusInfinity => Ok(i64::MIN),
        DateTime::At { days, time, offset } => {
            let offset = if tz { offset.unwrap_or(0) } else { 0 };
            let us = i128::from(days) * i128::from(USECS_PER_DAY) + i128::from(time)
                - i128::from(offset) * 1_000_000;
            if us < i128::from(TIMESTAMP_MIN) || us >= i128::from(TIMESTAMP_END) {
                return Err(format!("timestamp out of range: \"{text}\""));
            }
            Ok(us as i64)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// inet and cidr

const PGSQL_AF_INET: u8 = 2;
const PGSQL_AF_INET6: u8 = 3;

/// `address[/bits]` in `inet_send`'s format: family, bits, is_cidr, address length, address.
fn encode_inet(text: &str, cidr: bool, out: &mut Vec<u8>) -> Result<(), String> {
    let t = if cidr {
        BinaryType::Cidr
    } else {
        BinaryType::Inet
    };
    let err = || invalid(t, text);
    let s = trim_pg(text);
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => {
            if b.is_empty() || !b.bytes().all(|c| c.is_ascii_digit()) || b.len() > 3 {
                return Err(err());
            }
            (a, Some(b.parse::<u8>().map_err(|_| err())?))
        }
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| err())?;
    let (family, bytes): (u8, Vec<u8>) = match ip {
        IpAddr::V4(a) => (PGSQL_AF_INET, a.octets().to_vec()),
        IpAddr::V6(a) => (PGSQL_AF_INET6, a.octets().to_vec()),
    };
    let max = (bytes.len() * 8) as u8;
    let bits = bits.unwrap_or(max);
    if bits > max {
        return Err(err());
    }
    if cidr {
        // No bits set to the right of the mask.
        for (k, &byte) in bytes.iter().enumerate() {
            let start = (k * 8) as u32;
            let keep = u32::from(bits).saturating_sub(start).min(8);
            let mask = if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
            if byte & !mask != 0 {
                return Err(format!(
                    "invalid cidr value: \"{text}\" (it has bits set to right of mask)"
                ));
            }
        }
    }
    out.extend_from_slice(&[family, bits, u8::from(cidr), bytes.len() as u8]);
    out.extend_from_slice(&bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(t: BinaryType, s: &str) -> Result<Vec<u8>, String> {
        let mut out = vec![0xAA];
        t.encode(s, &mut out)?;
        assert_eq!(out[0], 0xAA, "encode appends");
        Ok(out[1..].to_vec())
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn num(s: &str) -> String {
        let b = enc(BinaryType::Numeric, s).unwrap();
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn type_names() {
        use BinaryType as B;
        for (name, t) in [
            ("text", B::Text),
            ("character varying", B::Text),
            ("character varying(80)", B::Text),
            ("character", B::Text),
            ("character(3)", B::Text),
            ("bpchar", B::Text),
            ("name", B::Text),
            ("citext", B::Text),
            ("public.citext", B::Text),
            ("uuid", B::Uuid),
            ("smallint", B::Int2),
            ("integer", B::Int4),
            ("bigint", B::Int8),
            ("boolean", B::Bool),
            ("real", B::Float4),
            ("double precision", B::Float8),
            ("numeric", B::Numeric),
            ("numeric(10,2)", B::Numeric),
            ("date", B::Date),
            ("timestamp without time zone", B::Timestamp),
            ("timestamp(3) without time zone", B::Timestamp),
            ("timestamp with time zone", B::Timestamptz),
            ("timestamp(6) with time zone", B::Timestamptz),
            ("json", B::Json),
            ("jsonb", B::Jsonb),
            ("inet", B::Inet),
            ("cidr", B::Cidr),
        ] {
            assert_eq!(BinaryType::of(name), Some(t), "{name}");
        }
        for name in [
            "integer[]",
            "bytea",
            "interval",
            "\"char\"",
            "time without time zone",
            "money",
            "xml",
            "app.status",
            "",
        ] {
            assert_eq!(BinaryType::of(name), None, "{name}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(enc(BinaryType::Int2, "-32768").unwrap(), hex("8000"));
        assert_eq!(enc(BinaryType::Int2, "32767").unwrap(), hex("7fff"));
        assert!(enc(BinaryType::Int2, "32768")
            .unwrap_err()
            .contains("out of range"));
        assert_eq!(enc(BinaryType::Int4, " 42 ").unwrap(), hex("0000002a"));
        assert_eq!(enc(BinaryType::Int4, "-1").unwrap(), hex("ffffffff"));
        assert_eq!(enc(BinaryType::Int4, "+7").unwrap(), hex("00000007"));
        assert_eq!(enc(BinaryType::Int4, "1_000").unwrap(), hex("000003e8"));
        assert_eq!(enc(BinaryType::Int4, "0x10").unwrap(), hex("00000010"));
        assert_eq!(
            enc(BinaryType::Int8, "-9223372036854775808").unwrap(),
            hex("8000000000000000")
        );
        assert_eq!(
            enc(BinaryType::Int8, "9223372036854775807").unwrap(),
            hex("7fffffffffffffff")
        );
        assert!(enc(BinaryType::Int8, "9223372036854775808")
            .unwrap_err()
            .contains("out of range"));
        for bad in ["", "-", "1.5", "1e3", "12a", "_1", "1__0", "1_", "0x", " "] {
            let e = enc(BinaryType::Int4, bad).unwrap_err();
            assert!(
                e.contains("invalid input syntax for type integer"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn booleans() {
        for s in ["t", "true", "TRUE", " yes ", "y", "on", "1", "tr"] {
            assert_eq!(enc(BinaryType::Bool, s).unwrap(), [1], "{s}");
        }
        for s in ["f", "false", "no", "n", "off", "of", "0", "FALSE"] {
            assert_eq!(enc(BinaryType::Bool, s).unwrap(), [0], "{s}");
        }
        for s in ["o", "", "2", "truex", "yess"] {
            assert!(enc(BinaryType::Bool, s).is_err(), "{s}");
        }
    }

    #[test]
    fn floats() {
        assert_eq!(
            enc(BinaryType::Float8, "1.5").unwrap(),
            1.5f64.to_be_bytes()
        );
        assert_eq!(
            enc(BinaryType::Float8, "-0").unwrap(),
            (-0.0f64).to_be_bytes()
        );
        assert_eq!(
            enc(BinaryType::Float8, "Infinity").unwrap(),
            f64::INFINITY.to_be_bytes()
        );
        assert_eq!(
            enc(BinaryType::Float8, "-Infinity").unwrap(),
            f64::NEG_INFINITY.to_be_bytes()
        );
        assert_eq!(
            enc(BinaryType::Float8, "NaN").unwrap(),
            hex("7ff8000000000000")
        );
        assert_eq!(enc(BinaryType::Float4, "NaN").unwrap(), hex("7fc00000"));
        assert_eq!(
            enc(BinaryType::Float4, "1.10000002").unwrap(),
            1.1f32.to_be_bytes()
        );
        assert_eq!(
            enc(BinaryType::Float8, "0.10000000000000001").unwrap(),
            0.1f64.to_be_bytes()
        );
        assert_eq!(
            enc(BinaryType::Float8, "1e-310").unwrap(),
            1e-310f64.to_be_bytes()
        );
        assert!(enc(BinaryType::Float8, "1e999")
            .unwrap_err()
            .contains("range"));
        assert!(enc(BinaryType::Float8, "1e-999")
            .unwrap_err()
            .contains("range"));
        assert!(enc(BinaryType::Float4, "1e39")
            .unwrap_err()
            .contains("range"));
        assert_eq!(
            enc(BinaryType::Float8, "0e-999").unwrap(),
            0f64.to_be_bytes()
        );
        for bad in ["", "abc", "1.5x", "--1", "0x10", "infinityx"] {
            assert!(enc(BinaryType::Float8, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numerics_match_numeric_send() {
        // Expected bytes taken from PostgreSQL 15's numeric_send.
        for (text, expected) in [
            ("0.0001", "0001ffff000000040001"),
            ("0.5", "0001ffff000000011388"),
            (
                "-123456789.987654321",
                "0006000240000009000109291a852694153803e8",
            ),
            ("100000000", "00010002000000000001"),
            ("0.00000001", "0001fffe000000080001"),
            ("3.14159", "0003000000000005000305872328"),
            ("1", "00010000000000000001"),
            ("-1", "00010000400000000001"),
            ("10000", "00010001000000000001"),
            ("9999", "0001000000000000270f"),
            ("0", "0000000000000000"),
            ("1000.5", "000200000000000103e81388"),
            ("150", "00010000000000000096"),
            ("1.50E+2", "00010000000000000096"),
            (
                "0.1234567890123456789",
                "0005ffff0000001304d2162e23340d801ed2",
            ),
            ("-0.000001", "0001fffe400000060064"),
            ("99999999.99", "0003000100000002270f270f26ac"),
            ("1e100", "00010019000000000001"),
            ("1e-100", "0001ffe7000000640001"),
            ("123.4500", "0002000000000004007b1194"),
            ("NaN", "00000000c0000000"),
            ("-0.00", "0000000000000002"),
            ("12345.6780", "0003000100000004000109291a7c"),
            ("1e-5", "0001fffe0000000503e8"),
            ("-1.5e3", "000100004000000005dc"),
        ] {
            assert_eq!(num(text), expected, "{text}");
        }
        assert_eq!(num("Infinity"), "00000000d0000000");
        assert_eq!(num("-Infinity"), "00000000f0000000");
        assert_eq!(num("  +1_000.5 "), num("1000.5"));
        assert_eq!(num("1.50E+2"), num("150"));
        assert_eq!(num(".5"), num("0.5"));
        assert_eq!(num("5."), num("5"));
        for bad in [
            "", ".", "-", "1.2.3", "1e", "1ex", "abc", "1 2", "e5", "1_", "_1",
        ] {
            assert!(enc(BinaryType::Numeric, bad).is_err(), "{bad}");
        }
        assert!(enc(BinaryType::Numeric, "1e999999999999")
            .unwrap_err()
            .contains("overflows"));
        assert!(enc(BinaryType::Numeric, "1e200000")
            .unwrap_err()
            .contains("overflows"));
    }

    #[test]
    fn uuids() {
        let want = hex("a0eebc999c0b4ef8bb6d6bb9bd380a11");
        for s in [
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        ] {
            assert_eq!(enc(BinaryType::Uuid, s).unwrap(), want, "{s}");
        }
        for s in [
            "",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
            "-a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11-",
            "a0eebc99--9c0b4ef8bb6d6bb9bd380a11",
            "g0eebc999c0b4ef8bb6d6bb9bd380a11",
            "{a0eebc999c0b4ef8bb6d6bb9bd380a11",
        ] {
            assert!(enc(BinaryType::Uuid, s).is_err(), "{s}");
        }
    }

    fn ts(s: &str) -> i64 {
        parse_timestamp(s, false).unwrap()
    }

    fn tstz(s: &str) -> i64 {
        parse_timestamp(s, true).unwrap()
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2000-01-01").unwrap(), 0);
        assert_eq!(parse_date("2000-01-02").unwrap(), 1);
        assert_eq!(parse_date("1999-12-31").unwrap(), -1);
        assert_eq!(parse_date("1970-01-01").unwrap(), -10957);
        assert_eq!(parse_date("epoch").unwrap(), -10957);
        assert_eq!(parse_date("2024-02-29").unwrap(), 8825);
        assert_eq!(parse_date("4714-11-24 BC").unwrap(), -2451545);
        assert_eq!(
            parse_date("0001-12-31 BC").unwrap(),
            parse_date("0001-01-01").unwrap() - 1
        );
        assert_eq!(parse_date("5874897-12-31").unwrap(), 0x7fda970c);
        assert_eq!(parse_date("infinity").unwrap(), i32::MAX);
        assert_eq!(parse_date("-infinity").unwrap(), i32::MIN);
        assert_eq!(parse_date("2024-03-05 12:34:56").unwrap(), 8830);
        assert_eq!(parse_date(" 2024-3-5 ").unwrap(), 8830);
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "0000-01-01",
            "4714-11-23 BC",
            "5874898-01-01",
            "2024/03/05",
            "2024-03-05x",
            "",
            "today",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        // 1900 is not a leap year, 2000 is, 4 BC (year -3) is not, 1 BC (year 0) is.
        assert!(parse_date("1900-02-29").is_err());
        assert!(parse_date("2000-02-29").is_ok());
        assert!(parse_date("0001-02-29 BC").is_ok());
        assert!(parse_date("0004-02-29 BC").is_err());
        assert!(parse_date("0005-02-29 BC").is_ok());
    }

    #[test]
    fn timestamps() {
        assert_eq!(ts("2000-01-01 00:00:00"), 0);
        assert_eq!(ts("2000-01-01 00:00:00.000001"), 1);
        assert_eq!(ts("1999-12-31 23:59:59.999999"), -1);
        assert_eq!(
            ts("2024-03-05 12:34:56.123456"),
            8830 * USECS_PER_DAY + ((12 * 60 + 34) * 60 + 56) * 1_000_000 + 123_456
        );
        assert_eq!(
            ts("2024-03-05 12:34:56.5"),
            ts("2024-03-05 12:34:56.500000")
        );
        assert_eq!(ts("2024-03-05T12:34:56"), ts("2024-03-05 12:34:56"));
        assert_eq!(ts("2024-03-05 12:34"), ts("2024-03-05 12:34:00"));
        assert_eq!(ts("2024-03-05"), ts("2024-03-05 00:00:00"));
        assert_eq!(ts("2024-03-05 24:00:00"), ts("2024-03-06 00:00:00"));
        assert_eq!(ts("2024-03-05 12:00:00.0000004"), ts("2024-03-05 12:00:00"));
        assert_eq!(
            ts("2024-03-05 12:00:00.0000005"),
            ts("2024-03-05 12:00:00.000001")
        );
        // Without time zone, an offset is ignored.
        assert_eq!(ts("2024-03-05 12:00:00+05:30"), ts("2024-03-05 12:00:00"));
        assert_eq!(ts("infinity"), i64::MAX);
        assert_eq!(ts("-infinity"), i64::MIN);
        assert_eq!(ts("4714-11-24 00:00:00 BC"), TIMESTAMP_MIN);
        // From PostgreSQL 15: timestamptz_send('0044-03-15 12:00:00+00 BC').
        assert_eq!(
            tstz("0044-03-15 12:00:00+00 BC").to_be_bytes(),
            hex("ff1af9e8fb46d000")[..]
        );
        assert_eq!(ts("294276-12-31 23:59:59.999999"), TIMESTAMP_END - 1);
        for bad in [
            "294277-01-01 00:00:00",
            "4714-11-23 23:59:59 BC",
            "2024-03-05 25:00:00",
            "2024-03-05 24:00:01",
            "2024-03-05 12:60:00",
            "2024-03-05 12",
            "2024-03-05 12:00:00 junk",
        ] {
            assert!(parse_timestamp(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_with_offsets_are_converted_to_utc() {
        let utc = tstz("2024-03-05 12:34:56.123456+00");
        assert_eq!(tstz("2024-03-05 12:34:56.123456"), utc);
        assert_eq!(tstz("2024-03-05 12:34:56.123456Z"), utc);
        assert_eq!(tstz("2024-03-05 12:34:56.123456 UTC"), utc);
        assert_eq!(tstz("2024-03-05 18:04:56.123456+05:30"), utc);
        assert_eq!(tstz("2024-03-05 18:04:56.123456+0530"), utc);
        assert_eq!(tstz("2024-03-05 07:34:56.123456-05"), utc);
        assert_eq!(tstz("2024-03-04 23:34:56.123456-13:00"), utc);
        assert_eq!(tstz("2024-03-05T12:34:56.123456+00:00"), utc);
        assert_eq!(
            tstz("1800-01-01 00:00:00+05:53:28"),
            tstz("1799-12-31 18:06:32+00")
        );
        assert_eq!(tstz("2000-01-01 00:00:00+01"), -3_600_000_000);
        assert_eq!(tstz("infinity"), i64::MAX);
        assert_eq!(tstz("-infinity"), i64::MIN);
        assert!(parse_timestamp("2024-03-05 12:00:00+16", true).is_err());
    }

    #[test]
    fn inet_and_cidr_match_inet_send() {
        // From PostgreSQL 15's inet_send / cidr_send.
        assert_eq!(
            enc(BinaryType::Inet, "1.2.3.4").unwrap(),
            hex("0220000401020304")
        );
        assert_eq!(
            enc(BinaryType::Cidr, "10.0.0.0/8").unwrap(),
            hex("020801040a000000")
        );
        assert_eq!(
            enc(BinaryType::Inet, "::1/64").unwrap(),
            hex("0340001000000000000000000000000000000001")
        );
        assert_eq!(
            enc(BinaryType::Inet, "192.168.1.5/24").unwrap(),
            hex("02180004c0a80105")
        );
        assert_eq!(
            enc(BinaryType::Cidr, "2001:db8::/32").unwrap(),
            hex("0320011020010db8000000000000000000000000")
        );
        assert_eq!(
            enc(BinaryType::Cidr, "192.168.1.128/25").unwrap(),
            hex("02190104c0a80180")
        );
        assert!(enc(BinaryType::Cidr, "192.168.1.5/24")
            .unwrap_err()
            .contains("bits set to right of mask"));
        assert!(enc(BinaryType::Cidr, "192.168.1.129/25").is_err());
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4/33",
            "::1/129",
            "1.2.3.4/",
            "1.2.3.4/x",
            "host",
        ] {
            assert!(enc(BinaryType::Inet, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_json_and_jsonb() {
        assert_eq!(
            enc(BinaryType::Text, "héllo\tx").unwrap(),
            "héllo\tx".as_bytes()
        );
        assert_eq!(enc(BinaryType::Json, "{\"a\": 1}").unwrap(), b"{\"a\": 1}");
        assert_eq!(
            enc(BinaryType::Jsonb, "{\"a\": 1}").unwrap(),
            b"\x01{\"a\": 1}"
        );
        assert!(enc(BinaryType::Text, "a\0b").is_err());
    }
}
