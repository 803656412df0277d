//! Finding columns that look like personal data (PII), for strict mode: a sync stops when such a
//! column has no rule in the profile (it fails closed).
//!
//! Three signals, meant to be combined by the caller:
//!
//! - [`by_name`]: the column's name. Names are split into words on `_`, `-`, spaces,
//!   camelCase and digits (`billingAddress2` → `billing address 2`, `IPAddress` → `ip address`),
//!   then matched against word sequences (`first name`, `date of birth`, `credit card`, ...).
//!   Bare `name` is *not* flagged: `products.name` or `tags.name` would be false positives;
//!   person names are recognised by a qualifying word (`first_name`, `customer_name`,
//!   `username`, `surname`, ...). A word that makes the column describe the data rather than
//!   hold it cancels the match when it follows (`email_verified`, `phone_type`, `address_id`,
//!   `password_changed_at`), and so do leading `is`/`has`/`num`/`count` (`is_email_public`).
//! - [`fits`]: whether a column of that type can hold that kind: booleans and uuids never,
//!   numbers only phone / SSN / card numbers, dates and timestamps only birth dates, `inet` /
//!   `cidr` / `macaddr` only IP addresses; text, json, bytea and every type not known here (a
//!   domain, an enum) can hold anything. [`by_column`] is [`by_name`] filtered by [`fits`].
//! - [`by_value`] / [`by_values`]: the content of a sample. Emails, US SSNs, card numbers
//!   (brand prefix, length and Luhn), IBANs (mod 97), IPv4/IPv6 addresses, phone numbers in a
//!   phone-like layout, password hashes (`$2b$`, `$argon2id$`, `pbkdf2_sha256$`, ...). Names,
//!   addresses and dates are not recognised by content (dates are everywhere); nor are secrets
//!   other than password hashes.

use serde::Serialize;

/// A kind of personal (or secret) data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Email,
    Phone,
    /// A person's name (first, last, full, user name).
    Name,
    /// A postal address or a part of one (street, postal code).
    Address,
    /// A national identifier: SSN, national id, tax id, passport, driver's license.
    Ssn,
    BirthDate,
    Ip,
    /// A payment card number, its security code, or an IBAN.
    CardNumber,
    /// A password or its hash.
    Password,
    /// A credential other than a password: API key, access / refresh / session token,
    /// private key, secret. Not personal data, but never to be copied out of production.
    Secret,
}

impl PiiKind {
    /// Every kind, in declaration order.
    pub const ALL: [PiiKind; 10] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::Name,
        PiiKind::Address,
        PiiKind::Ssn,
        PiiKind::BirthDate,
        PiiKind::Ip,
        PiiKind::CardNumber,
        PiiKind::Password,
        PiiKind::Secret,
    ];

    /// The snake_case name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Name => "name",
            PiiKind::Address => "address",
            PiiKind::Ssn => "ssn",
            PiiKind::BirthDate => "birth_date",
            PiiKind::Ip => "ip",
            PiiKind::CardNumber => "card_number",
            PiiKind::Password => "password",
            PiiKind::Secret => "secret",
        }
    }
}

impl std::fmt::Display for PiiKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// By name

/// One pattern over the words of a column name.
enum Pat {
    /// These words, consecutive.
    Seq(&'static [&'static str]),
    /// A word containing this text (`useremail`, `cellphone`).
    Contains(&'static str),
    /// This word as the last one (digits may follow): `contact_mail`, `mobile`, `zip`.
    Last(&'static str),
}

use Pat::*;

/// Checked in this order: the first kind that matches wins (`email_address` is an email,
/// `ip_address` an IP, not addresses).
const PATTERNS: &[(PiiKind, &[Pat])] = &[
    (
        PiiKind::Email,
        &[
            Contains("email"),
            Seq(&["e", "mail"]),
            Seq(&["mail", "address"]),
            Seq(&["mail", "addr"]),
            Last("mail"),
        ],
    ),
    (
        PiiKind::Ip,
        &[
            Seq(&["ip"]),
            Seq(&["ipv"]),
            Seq(&["ipaddress"]),
            Seq(&["ipaddr"]),
            Seq(&["remote", "addr"]),
            Seq(&["remote", "address"]),
            Seq(&["remoteaddr"]),
            Seq(&["client", "addr"]),
            Seq(&["client", "address"]),
            Seq(&["forwarded", "for"]),
        ],
    ),
    (
        PiiKind::Password,
        &[
            Contains("password"),
            Seq(&["passwd"]),
            Seq(&["pwd"]),
            Seq(&["passphrase"]),
            Seq(&["pass", "hash"]),
        ],
    ),
    (
        PiiKind::Secret,
        &[
            Seq(&["api", "key"]),
            Seq(&["apikey"]),
            Seq(&["private", "key"]),
            Seq(&["secret"]),
            Seq(&["secrets"]),
            Contains("secret"),
            Last("token"),
        ],
    ),
    (
        PiiKind::Ssn,
        &[
            Seq(&["ssn"]),
            Seq(&["social", "security"]),
            Seq(&["socialsecurity"]),
            Seq(&["national", "id"]),
            Seq(&["nationalid"]),
            Seq(&["national", "insurance"]),
            Seq(&["tax", "id"]),
            Seq(&["taxid"]),
            Seq(&["passport"]),
            Seq(&["nin"]),
            Seq(&["nino"]),
            Seq(&["sin"]),
            Seq(&["driver", "license"]),
            Seq(&["drivers", "license"]),
            Seq(&["driver", "licence"]),
            Seq(&["drivers", "licence"]),
            Seq(&["driving", "license"]),
            Seq(&["driving", "licence"]),
        ],
    ),
    (
        PiiKind::CardNumber,
        &[
            Seq(&["card", "number"]),
            Seq(&["card", "num"]),
            Seq(&["card", "no"]),
            Seq(&["cardnumber"]),
            Seq(&["credit", "card"]),
            Seq(&["creditcard"]),
            Seq(&["debit", "card"]),
            Seq(&["cc", "number"]),
            Seq(&["cc", "num"]),
            Seq(&["cc", "no"]),
            Seq(&["ccnumber"]),
            Seq(&["ccnum"]),
            Seq(&["pan"]),
            Seq(&["iban"]),
            Seq(&["cvv"]),
            Seq(&["cvc"]),
            Seq(&["primary", "account", "number"]),
        ],
    ),
    (
        PiiKind::BirthDate,
        &[
            Seq(&["birth", "date"]),
            Seq(&["birth", "day"]),
            Seq(&["birth", "dt"]),
            Seq(&["birth", "year"]),
            Seq(&["birthdate"]),
            Seq(&["birthday"]),
            Seq(&["birthdt"]),
            Seq(&["date", "of", "birth"]),
            Seq(&["dob"]),
            Seq(&["born", "on"]),
        ],
    ),
    (
        PiiKind::Phone,
        &[
            Contains("phone"),
            Seq(&["tel"]),
            Seq(&["fax"]),
            Seq(&["msisdn"]),
            Seq(&["mobile", "number"]),
            Seq(&["mobile", "no"]),
            Seq(&["mobile", "num"]),
            Last("mobile"),
            Seq(&["cell", "number"]),
            Seq(&["cell", "no"]),
            Last("cell"),
            Seq(&["contact", "number"]),
        ],
    ),
    (
        PiiKind::Name,
        &[
            Seq(&["first", "name"]),
            Seq(&["last", "name"]),
            Seq(&["middle", "name"]),
            Seq(&["full", "name"]),
            Seq(&["given", "name"]),
            Seq(&["family", "name"]),
            Seq(&["maiden", "name"]),
            Seq(&["display", "name"]),
            Seq(&["nick", "name"]),
            Seq(&["user", "name"]),
            Seq(&["legal", "name"]),
            Seq(&["real", "name"]),
            Seq(&["sur", "name"]),
            Seq(&["fore", "name"]),
            Seq(&["contact", "name"]),
            Seq(&["customer", "name"]),
            Seq(&["client", "name"]),
            Seq(&["person", "name"]),
            Seq(&["patient", "name"]),
            Seq(&["employee", "name"]),
            Seq(&["member", "name"]),
            Seq(&["guest", "name"]),
            Seq(&["holder", "name"]),
            Seq(&["cardholder", "name"]),
            Seq(&["cardholder"]),
            Seq(&["account", "holder"]),
            Seq(&["recipient", "name"]),
            Seq(&["billing", "name"]),
            Seq(&["shipping", "name"]),
            Seq(&["parent", "name"]),
            Seq(&["spouse", "name"]),
            Seq(&["firstname"]),
            Seq(&["lastname"]),
            Seq(&["middlename"]),
            Seq(&["fullname"]),
            Seq(&["givenname"]),
            Seq(&["familyname"]),
            Seq(&["maidenname"]),
            Seq(&["displayname"]),
            Seq(&["nickname"]),
            Seq(&["username"]),
            Seq(&["surname"]),
            Seq(&["forename"]),
            Seq(&["forenames"]),
            Seq(&["fname"]),
            Seq(&["lname"]),
        ],
    ),
    (
        PiiKind::Address,
        &[
            Seq(&["address"]),
            Seq(&["addresses"]),
            Seq(&["addr"]),
            Seq(&["street"]),
            Seq(&["streetaddress"]),
            Seq(&["postal", "code"]),
            Seq(&["post", "code"]),
            Seq(&["postalcode"]),
            Seq(&["postcode"]),
            Seq(&["zip", "code"]),
            Seq(&["zipcode"]),
            Last("zip"),
            Seq(&["house", "number"]),
            Seq(&["housenumber"]),
        ],
    ),
];

/// Words after a match that make the column describe the data rather than hold it.
const QUALIFIERS: &[&str] = &[
    "id",
    "ids",
    "uuid",
    "count",
    "counts",
    "type",
    "types",
    "kind",
    "status",
    "verified",
    "validated",
    "valid",
    "confirmed",
    "verification",
    "enabled",
    "disabled",
    "flag",
    "at",
    "sent",
    "template",
    "format",
    "provider",
    "domain",
    "length",
    "len",
    "preference",
    "preferences",
    "opt",
    "optin",
    "optout",
    "consent",
    "frequency",
    "visibility",
    "visible",
    "public",
    "required",
    "changed",
    "updated",
    "expires",
    "expiry",
    "expired",
    "expiration",
    "country",
    "region",
    "version",
];

/// Leading words of boolean or counting columns.
const LEADERS: &[&str] = &[
    "is", "has", "can", "allow", "allows", "should", "num", "count",
];

/// Words before `address`/`addr` that make it something else than a postal address.
const NOT_POSTAL: &[&str] = &[
    "mac", "wallet", "web", "url", "host", "memory", "network", "contract", "bitcoin", "server",
];

/// The lower-case words of a column name.
pub fn words(column: &str) -> Vec<String> {
    let chars: Vec<char> = column.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next_lower)
                || (prev.is_alphabetic() && c.is_numeric())
                || (prev.is_numeric() && c.is_alphabetic());
            if boundary {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The kind of personal data a column's name suggests (see the module documentation). Callers
/// filter by the column's type with [`fits`] (or use [`by_column`]): `email_sent_count integer`
/// is not an email.
pub fn by_name(column: &str) -> Option<PiiKind> {
    let w = words(column);
    if w.first().is_some_and(|f| LEADERS.contains(&f.as_str())) {
        return None;
    }
    let is_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    for (kind, pats) in PATTERNS {
        for pat in *pats {
            for start in 0..w.len() {
                let end = match pat {
                    Seq(seq) => {
                        let fits = w.len() - start >= seq.len()
                            && seq.iter().zip(&w[start..]).all(|(a, b)| a == b);
                        if !fits {
                            continue;
                        }
                        start + seq.len()
                    }
                    Contains(text) => {
                        if !w[start].contains(text) {
                            continue;
                        }
                        start + 1
                    }
                    Last(word) => {
                        if w[start] != *word || !w[start + 1..].iter().all(|x| is_digits(x)) {
                            continue;
                        }
                        start + 1
                    }
                };
                if w.get(end).is_some_and(|x| QUALIFIERS.contains(&x.as_str())) {
                    continue;
                }
                if *kind == PiiKind::Address
                    && start > 0
                    && NOT_POSTAL.contains(&w[start - 1].as_str())
                {
                    continue;
                }
                return Some(*kind);
            }
        }
    }
    None
}

/// Whether a column of PostgreSQL type `column_type` (as `format_type` prints it; an array is
/// judged by its element type) can hold data of `kind`.
pub fn fits(kind: PiiKind, column_type: &str) -> bool {
    let t = column_type.trim().to_ascii_lowercase();
    let t = t.trim_end_matches("[]");
    let base = t.split('(').next().unwrap_or(t).trim();
    let number = matches!(
        base,
        "smallint"
            | "integer"
            | "bigint"
            | "int"
            | "int2"
            | "int4"
            | "int8"
            | "numeric"
            | "decimal"
            | "real"
            | "double precision"
            | "float4"
            | "float8"
            | "money"
            | "smallserial"
            | "serial"
            | "bigserial"
            | "oid"
    );
    let temporal = base == "date" || base.starts_with("timestamp");
    let network = matches!(base, "inet" | "cidr" | "macaddr" | "macaddr8");
    match base {
        "boolean" | "bool" | "uuid" | "interval" => false,
        _ if base == "time" || base.starts_with("time ") => false,
        _ if number => matches!(kind, PiiKind::Phone | PiiKind::Ssn | PiiKind::CardNumber),
        _ if temporal => kind == PiiKind::BirthDate,
        _ if network => kind == PiiKind::Ip,
        _ => true,
    }
}

/// [`by_name`], when a column of type `column_type` can hold that kind ([`fits`]).
pub fn by_column(column: &str, column_type: &str) -> Option<PiiKind> {
    by_name(column).filter(|&k| fits(k, column_type))
}

// ---------------------------------------------------------------------------------------------
// By value

/// The kind of personal data one value looks like (surrounding whitespace ignored).
pub fn by_value(text: &str) -> Option<PiiKind> {
    let s = text.trim();
    if s.is_empty() {
        None
    } else if is_password_hash(s) {
        Some(PiiKind::Password)
    } else if is_email(s) {
        Some(PiiKind::Email)
    } else if is_ip(s) {
        Some(PiiKind::Ip)
    } else if is_ssn(s) {
        Some(PiiKind::Ssn)
    } else if is_card_number(s) || is_iban(s) {
        Some(PiiKind::CardNumber)
    } else if is_phone(s) {
        Some(PiiKind::Phone)
    } else {
        None
    }
}

/// The kind of a sample of one column's values: the most frequent kind, when there are at least
/// 3 non-empty values and at least 30% of them are of that kind.
pub fn by_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<PiiKind> {
    let mut total = 0usize;
    let mut counts = [0usize; PiiKind::ALL.len()];
    for v in values {
        if v.trim().is_empty() {
            continue;
        }
        total += 1;
        if let Some(k) = by_value(v) {
            counts[PiiKind::ALL.iter().position(|x| *x == k).expect("listed")] += 1;
        }
    }
    if total < 3 {
        return None;
    }
    let (i, &best) = counts
        .iter()
        .enumerate()
        .rev()
        .max_by_key(|(_, c)| **c)
        .expect("non-empty");
    (best > 0 && best * 10 >= total * 3).then_some(PiiKind::ALL[i])
}

fn is_password_hash(s: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "$2a$",
        "$2b$",
        "$2x$",
        "$2y$",
        "$argon2i$",
        "$argon2d$",
        "$argon2id$",
        "$scrypt$",
        "$pbkdf2",
        "$1$",
        "$5$",
        "$6$",
        "$apr1$",
        "$y$",
        "pbkdf2_sha256$",
        "pbkdf2_sha1$",
        "argon2$",
        "bcrypt$",
        "bcrypt_sha256$",
        "scrypt$",
        "{SSHA}",
        "{SHA}",
        "{SSHA512}",
        "md5$",
        "sha1$",
    ];
    s.len() >= 20 && !s.contains(char::is_whitespace) && PREFIXES.iter().any(|p| s.starts_with(p))
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| {
            tld.len() >= 2
                && (tld.chars().all(|c| c.is_ascii_alphabetic()) || tld.starts_with("xn--"))
        });
    local_ok && domain_ok
}

fn is_ip(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    match prefix {
        None => true,
        Some(p) => p.parse::<u8>().is_ok_and(|n| {
            p.chars().all(|c| c.is_ascii_digit()) && n <= if ip.is_ipv4() { 32 } else { 128 }
        }),
    }
}

/// `AAA-GG-SSSS` with the Social Security Administration's rules: area not 000, 666 or 9xx,
/// group not 00, serial not 0000.
fn is_ssn(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 11 || b[3] != b'-' || b[6] != b'-' {
        return false;
    }
    let (area, group, serial) = (&s[..3], &s[4..6], &s[7..]);
    [area, group, serial]
        .iter()
        .all(|p| p.bytes().all(|c| c.is_ascii_digit()))
        && area != "000"
        && area != "666"
        && !area.starts_with('9')
        && group != "00"
        && serial != "0000"
}

/// The digits of `s` when it is digit groups separated by single spaces or dashes.
fn grouped_digits(s: &str) -> Option<String> {
    let mut digits = String::new();
    let mut prev_sep = true;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            prev_sep = false;
        } else if (c == ' ' || c == '-') && !prev_sep {
            prev_sep = true;
        } else {
            return None;
        }
    }
    (!prev_sep).then_some(digits)
}

/// 13 to 19 digits (spaces or dashes between groups allowed) with a known brand prefix and
/// length, passing the Luhn check.
fn is_card_number(s: &str) -> bool {
    let Some(d) = grouped_digits(s) else {
        return false;
    };
    let n = d.len();
    if !(13..=19).contains(&n) {
        return false;
    }
    let p = |k: usize| d[..k].parse::<u32>().unwrap_or(0);
    let brand = match d.as_bytes()[0] {
        b'4' => matches!(n, 13 | 16 | 19),
        b'5' => (51..=55).contains(&p(2)) && n == 16,
        b'2' => (2221..=2720).contains(&p(4)) && n == 16,
        b'3' => {
            (matches!(p(2), 34 | 37) && n == 15)
                || ((300..=305).contains(&p(3)) || matches!(p(2), 36 | 38 | 39)) && n >= 14
                || (3528..=3589).contains(&p(4)) && n >= 16
        }
        b'6' => {
            (p(4) == 6011 || p(2) == 65 || (644..=649).contains(&p(3)) || p(2) == 62) && n >= 16
        }
        _ => false,
    };
    brand && luhn(&d)
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Two letters, two check digits, 11 to 30 letters or digits (spaces allowed), mod 97 = 1.
fn is_iban(s: &str) -> bool {
    let c: String = s.chars().filter(|c| *c != ' ').collect();
    let b = c.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b[4..]
            .iter()
            .all(|x| x.is_ascii_digit() || x.is_ascii_uppercase())
    {
        return false;
    }
    let mut rem = 0u32;
    for &x in b[4..].iter().chain(&b[..4]) {
        let v = if x.is_ascii_digit() {
            u32::from(x - b'0')
        } else {
            u32::from(x - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// A phone number: 9 to 15 digits, with either a leading `+`; or digit groups separated by
/// spaces, dashes, dots or one parenthesised group, at least three groups, every group after
/// the first 2 to 4 digits long; or 10–11 digits starting with `0` and a non-zero digit (a
/// national number written plainly, `0612345678`). A plain integer is not a phone number, and
/// neither is the layout of a US SSN (`123-45-6789`).
fn is_phone(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() == 11 && b[3] == b'-' && b[6] == b'-' {
        return false;
    }
    let (plus, rest) = match s.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let mut groups: Vec<usize> = Vec::new();
    let mut cur = 0usize;
    let (mut open, mut closed) = (0, 0);
    for c in rest.chars() {
        match c {
            '0'..='9' => cur += 1,
            ' ' | '-' | '.' | '(' | ')' => {
                if cur > 0 {
                    groups.push(cur);
                    cur = 0;
                }
                match c {
                    '(' => {
                        open += 1;
                        if open > 1 || closed > 0 {
                            return false;
                        }
                    }
                    ')' => {
                        closed += 1;
                        if closed > open {
                            return false;
                        }
                    }
                    _ => {}
                }
            }
            _ => return false,
        }
    }
    if cur > 0 {
        groups.push(cur);
    }
    if open != closed {
        return false;
    }
    let digits: usize = groups.iter().sum();
    if !(9..=15).contains(&digits) || !rest.starts_with(|c: char| c.is_ascii_digit() || c == '(') {
        return false;
    }
    if plus {
        return true;
    }
    if groups.len() == 1 {
        let b = rest.as_bytes();
        return open == 0 && (10..=11).contains(&digits) && b[0] == b'0' && b[1] != b'0';
    }
    groups.len() >= 3 && groups[1..].iter().all(|g| (2..=4).contains(g)) && groups[0] <= 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use PiiKind::*;

    #[test]
    fn words_split_snake_camel_and_digits() {
        assert_eq!(words("billingAddress2"), ["billing", "address", "2"]);
        assert_eq!(words("IPAddress"), ["ip", "address"]);
        assert_eq!(words("client_IP"), ["client", "ip"]);
        assert_eq!(words("date-of birth"), ["date", "of", "birth"]);
        assert_eq!(words("ipv4_addr"), ["ipv", "4", "addr"]);
        assert_eq!(words("SSN"), ["ssn"]);
    }

    #[test]
    fn names_of_every_kind() {
        let cases: &[(&str, PiiKind)] = &[
            ("email", Email),
            ("contact_email", Email),
            ("e_mail", Email),
            ("useremail", Email),
            ("emailAddress", Email),
            ("mail", Email),
            ("mail_addr", Email),
            ("phone", Phone),
            ("contact_phone", Phone),
            ("phoneNumber", Phone),
            ("cellphone", Phone),
            ("mobile", Phone),
            ("mobile_number", Phone),
            ("tel", Phone),
            ("telephone", Phone),
            ("fax", Phone),
            ("msisdn", Phone),
            ("first_name", Name),
            ("LastName", Name),
            ("middle_name", Name),
            ("full_name", Name),
            ("given_name", Name),
            ("family_name", Name),
            ("surname", Name),
            ("maiden_name", Name),
            ("display_name", Name),
            ("customer_name", Name),
            ("username", Name),
            ("firstname", Name),
            ("address", Address),
            ("billing_address", Address),
            ("shipping_address_line1", Address),
            ("street", Address),
            ("addr_line_2", Address),
            ("postal_code", Address),
            ("zip", Address),
            ("zipcode", Address),
            ("zip_code", Address),
            ("postcode", Address),
            ("ssn", Ssn),
            ("social_security_number", Ssn),
            ("national_id", Ssn),
            ("tax_id", Ssn),
            ("passport_number", Ssn),
            ("nin", Ssn),
            ("sin", Ssn),
            ("drivers_license_number", Ssn),
            ("birth_date", BirthDate),
            ("date_of_birth", BirthDate),
            ("dob", BirthDate),
            ("birthday", BirthDate),
            ("birthdate", BirthDate),
            ("dateOfBirth", BirthDate),
            ("ip", Ip),
            ("ip_address", Ip),
            ("ip_addr", Ip),
            ("ipv4", Ip),
            ("remote_addr", Ip),
            ("client_ip", Ip),
            ("clientIP", Ip),
            ("last_login_ip", Ip),
            ("card_number", CardNumber),
            ("credit_card", CardNumber),
            ("credit_card_number", CardNumber),
            ("cc_number", CardNumber),
            ("pan", CardNumber),
            ("iban", CardNumber),
            ("cvv", CardNumber),
            ("password", Password),
            ("password_hash", Password),
            ("passwd", Password),
            ("encrypted_password", Password),
            ("api_key", Secret),
            ("access_token", Secret),
            ("reset_token", Secret),
            ("client_secret", Secret),
            ("totp_secret", Secret),
        ];
        for (name, kind) in cases {
            assert_eq!(by_name(name), Some(*kind), "{name}");
        }
    }

    #[test]
    fn names_that_are_not_personal_data() {
        for name in [
            "name",
            "product_name",
            "company_name",
            "file_name",
            "description",
            "shipping_fee",
            "zipped",
            "zip_file",
            "tipped",
            "vip",
            "email_verified",
            "email_verified_at",
            "is_email_public",
            "has_phone",
            "phone_type",
            "address_id",
            "address_type",
            "email_count",
            "num_addresses",
            "password_changed_at",
            "api_key_id",
            "mac_address",
            "wallet_address",
            "ip_version",
            "mobile_app",
            "email_domain",
            "id",
            "created_at",
            "total",
            "status",
            "order_number",
            "japan",
            "mailing_list",
            "national_id_type",
            "token_count",
        ] {
            assert_eq!(by_name(name), None, "{name}");
        }
    }

    #[test]
    fn types_filter_names() {
        assert_eq!(by_column("email", "text"), Some(Email));
        assert_eq!(by_column("email", "character varying(255)"), Some(Email));
        assert_eq!(by_column("emails", "text[]"), Some(Email));
        assert_eq!(by_column("email", "citext"), Some(Email));
        assert_eq!(by_column("email", "my_email_domain"), Some(Email));
        assert_eq!(by_column("email", "boolean"), None);
        assert_eq!(by_column("email", "integer"), None);
        assert_eq!(by_column("phone", "bigint"), Some(Phone));
        assert_eq!(by_column("ssn", "integer"), Some(Ssn));
        assert_eq!(by_column("birth_date", "date"), Some(BirthDate));
        assert_eq!(
            by_column("dob", "timestamp(3) with time zone"),
            Some(BirthDate)
        );
        assert_eq!(by_column("address", "timestamp without time zone"), None);
        assert_eq!(by_column("client_ip", "inet"), Some(Ip));
        assert_eq!(by_column("address", "inet"), None);
        assert_eq!(by_column("address", "jsonb"), Some(Address));
        assert_eq!(by_column("customer_name", "uuid"), None);
        assert_eq!(by_column("password", "bytea"), Some(Password));
    }

    #[test]
    fn values_of_every_kind() {
        let cases: &[(&str, PiiKind)] = &[
            ("alice@example.com", Email),
            ("  Bob.Smith+tag@mail.example.co.uk ", Email),
            ("x@xn--bcher-kva.example", Email),
            ("078-05-1120", Ssn),
            ("4111 1111 1111 1111", CardNumber),
            ("4111-1111-1111-1111", CardNumber),
            ("5500005555555559", CardNumber),
            ("378282246310005", CardNumber),
            ("6011111111111117", CardNumber),
            ("GB82 WEST 1234 5698 7654 32", CardNumber),
            ("FR1420041010050500013M02606", CardNumber),
            ("192.168.1.20", Ip),
            ("10.0.0.0/8", Ip),
            ("2001:db8::1", Ip),
            ("fe80::1/64", Ip),
            ("+33 6 12 34 56 78", Phone),
            ("+14155552671", Phone),
            ("(555) 123-4567", Phone),
            ("555-123-4567", Phone),
            ("555.123.4567", Phone),
            ("01 23 45 67 89", Phone),
            ("020 7946 0958", Phone),
            ("0612345678", Phone),
            (
                "$2b$12$KIXQJ1Yx6o9zqHq5xv1P2eYy2w6jX3o1qZJ9fB3n4Jq6wGzv1Q2e",
                Password,
            ),
            ("pbkdf2_sha256$600000$abc$def0123456789", Password),
        ];
        for (v, kind) in cases {
            assert_eq!(by_value(v), Some(*kind), "{v}");
        }
    }

    #[test]
    fn values_that_are_not_personal_data() {
        for v in [
            "",
            "hello",
            "ORD-2024-000123",
            "2024-000123",
            "2024-000123-45",
            "550e8400-e29b-41d4-a716-446655440000",
            "12345678-1234-1234-1234-123456789012",
            "1234567890",
            "1234567890123456",
            "0000012345",
            "19.99",
            "1234.56",
            "12345678.90",
            "1,234.56",
            "2024-01-15",
            "2024-01-15 10:30:00",
            "2024-01-15T10:30:00Z",
            "2024-01-15 10:30:00.123456+00",
            "15/01/2024",
            "10:30:00",
            "1700000000000",
            "4111111111111112",
            "000-12-3456",
            "666-12-3456",
            "123-00-4567",
            "a@b",
            "@example.com",
            "user@localhost",
            "1.2.3",
            "999.1.1.1",
            "+1",
            "(555 123-4567",
            "555-1234",
            "1.2.3.4.5.6.7.8.9",
            "$2b$",
            "true",
            "{\"a\": 1}",
        ] {
            assert_eq!(by_value(v), None, "{v}");
        }
    }

    #[test]
    fn samples_need_three_values_and_thirty_percent() {
        assert_eq!(by_values(["a@b.co", "c@d.co"]), None);
        assert_eq!(by_values(["a@b.co", "", " ", "c@d.co"]), None);
        assert_eq!(by_values(["a@b.co", "x", "y"]), Some(Email));
        assert_eq!(by_values(["a@b.co", "x", "y", "z"]), None);
        assert_eq!(
            by_values(["a@b.co", "x", "y", "z", "c@d.co", "e@f.co", "w", "v", "u", "t"]),
            Some(Email)
        );
        // A mixed column: the most frequent kind.
        assert_eq!(by_values(["10.0.0.1", "10.0.0.2", "a@b.co", "x"]), Some(Ip));
        // Order ids, prices and timestamps.
        assert_eq!(by_values(["1001", "1002", "1003", "1004"]), None);
        assert_eq!(by_values(["19.99", "5.00", "120.50"]), None);
        assert_eq!(
            by_values([
                "2024-01-15 10:30:00+00",
                "2024-02-01 08:00:00+00",
                "2023-12-31 23:59:59+00"
            ]),
            None
        );
    }
}
