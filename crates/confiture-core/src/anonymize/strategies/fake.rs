//! Fake values from small built-in word lists: `first_name`, `last_name`, `full_name`,
//! `company`, `address`, `city`. One file for the six strategies, which share their lists.
//!
//! Options: `locale` (`en` or `fr`, default `en`). The word is picked by an HMAC of the value,
//! so the same input gives the same fake under the same key (per run without a key). The lists
//! are small (a few dozen entries): distinct inputs can share a fake value.

use crate::anonymize::{Options, Row};
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    FirstName,
    LastName,
    FullName,
    Company,
    Address,
    City,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    Fr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fake {
    pub kind: Kind,
    pub locale: Locale,
}

struct Lists {
    first: &'static [&'static str],
    last: &'static [&'static str],
    company_suffix: &'static [&'static str],
    street: &'static [&'static str],
    city: &'static [&'static str],
}

const EN: Lists = Lists {
    first: &[
        "James",
        "Mary",
        "John",
        "Patricia",
        "Robert",
        "Jennifer",
        "Michael",
        "Linda",
        "William",
        "Elizabeth",
        "David",
        "Barbara",
        "Richard",
        "Susan",
        "Joseph",
        "Jessica",
        "Thomas",
        "Sarah",
        "Charles",
        "Karen",
        "Daniel",
        "Nancy",
        "Matthew",
        "Lisa",
    ],
    last: &[
        "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
        "Taylor", "Thomas", "Moore", "Martin", "Jackson", "Thompson", "White", "Harris", "Clark",
        "Lewis", "Walker", "Hall", "Young", "Allen", "King",
    ],
    company_suffix: &[
        "Inc.", "LLC", "Group", "Holdings", "& Sons", "Partners", "Ltd.",
    ],
    street: &[
        "Main Street",
        "Oak Avenue",
        "Maple Drive",
        "Cedar Lane",
        "Pine Street",
        "Elm Road",
        "Washington Avenue",
        "Lake View Drive",
        "Hill Street",
        "Park Avenue",
        "River Road",
        "Sunset Boulevard",
    ],
    city: &[
        "Springfield",
        "Riverside",
        "Franklin",
        "Greenville",
        "Bristol",
        "Clinton",
        "Fairview",
        "Salem",
        "Madison",
        "Georgetown",
        "Arlington",
        "Ashland",
        "Dover",
        "Oxford",
        "Milton",
        "Newport",
    ],
};

const FR: Lists = Lists {
    first: &[
        "Jean",
        "Marie",
        "Pierre",
        "Nathalie",
        "Michel",
        "Isabelle",
        "Philippe",
        "Sylvie",
        "Alain",
        "Catherine",
        "Nicolas",
        "Sophie",
        "Julien",
        "Camille",
        "Thomas",
        "Julie",
        "Antoine",
        "Claire",
        "Louis",
        "Chloé",
        "Hugo",
        "Léa",
        "Lucas",
        "Manon",
    ],
    last: &[
        "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
        "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
        "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
    ],
    company_suffix: &["SA", "SARL", "SAS", "et Fils", "Groupe", "Associés"],
    street: &[
        "rue de la Paix",
        "avenue Victor Hugo",
        "rue des Lilas",
        "boulevard Voltaire",
        "rue du Moulin",
        "place de la République",
        "rue Pasteur",
        "allée des Tilleuls",
        "chemin des Vignes",
        "rue de l'Église",
        "avenue Jean Jaurès",
        "quai des Brumes",
    ],
    city: &[
        "Lyon",
        "Marseille",
        "Toulouse",
        "Nantes",
        "Bordeaux",
        "Lille",
        "Rennes",
        "Reims",
        "Dijon",
        "Angers",
        "Grenoble",
        "Nîmes",
        "Tours",
        "Limoges",
        "Amiens",
        "Annecy",
    ],
};

impl Fake {
    /// `name` is one of the six strategy names.
    pub fn load(name: &str, o: &mut Options) -> Result<Self> {
        let kind = match name {
            "first_name" => Kind::FirstName,
            "last_name" => Kind::LastName,
            "full_name" => Kind::FullName,
            "company" => Kind::Company,
            "address" => Kind::Address,
            "city" => Kind::City,
            other => unreachable!("not a fake strategy: {other}"),
        };
        let path = o.path_of("locale");
        let locale = match o.get("locale") {
            None => Locale::En,
            Some(node) => match o.dec.string(node, &path)?.as_str() {
                "en" => Locale::En,
                "fr" => Locale::Fr,
                other => {
                    return Err(o
                        .invalid(
                            node,
                            format!("'{path}' must be 'en' or 'fr', found '{other}'"),
                        )
                        .with_hint("built-in word lists exist for en and fr"))
                }
            },
        };
        Ok(Fake { kind, locale })
    }

    pub fn apply(&self, value: &str, row: &Row) -> Option<String> {
        let l = match self.locale {
            Locale::En => &EN,
            Locale::Fr => &FR,
        };
        let key = row.key();
        let pick = |domain: &str, list: &[&'static str]| -> &'static str {
            list[key.pick(domain, value, list.len() as u64) as usize]
        };
        let number = || key.pick("fake.number", value, 199) + 1;
        Some(match self.kind {
            Kind::FirstName => pick("fake.first", l.first).to_string(),
            Kind::LastName => pick("fake.last", l.last).to_string(),
            Kind::FullName => {
                format!(
                    "{} {}",
                    pick("fake.first", l.first),
                    pick("fake.last", l.last)
                )
            }
            Kind::Company => {
                format!(
                    "{} {}",
                    pick("fake.last", l.last),
                    pick("fake.suffix", l.company_suffix)
                )
            }
            Kind::Address => match self.locale {
                Locale::En => format!("{} {}", number(), pick("fake.street", l.street)),
                Locale::Fr => format!("{}, {}", number(), pick("fake.street", l.street)),
            },
            Kind::City => pick("fake.city", l.city).to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anonymize::testutil::*;

    #[test]
    fn picks_from_the_locale_lists_and_is_stable() {
        let s = strategy("first_name", "");
        let a = keyed(&s, "text", "Alice");
        assert!(EN.first.contains(&a.as_str()), "{a}");
        assert_eq!(a, keyed(&s, "text", "Alice"));
        let fr = keyed(&strategy("city", "locale: fr"), "text", "Paris");
        assert!(FR.city.contains(&fr.as_str()), "{fr}");
        let many: std::collections::HashSet<String> = (0..100)
            .map(|i| keyed(&s, "text", &format!("n{i}")))
            .collect();
        assert!(many.len() > 10, "inputs spread over the list");
    }

    #[test]
    fn composite_values() {
        let full = keyed(&strategy("full_name", ""), "text", "Alice Martin");
        let (first, last) = full.split_once(' ').unwrap();
        assert!(
            EN.first.contains(&first) && EN.last.contains(&last),
            "{full}"
        );
        let company = keyed(&strategy("company", "locale: fr"), "text", "ACME");
        assert!(
            FR.company_suffix.iter().any(|s| company.ends_with(s)),
            "{company}"
        );
        let address = keyed(&strategy("address", ""), "text", "1600 Pennsylvania Avenue");
        let (num, street) = address.split_once(' ').unwrap();
        assert!((1..=199).contains(&num.parse::<u32>().unwrap()));
        assert!(EN.street.contains(&street), "{address}");
        assert!(EN
            .last
            .contains(&keyed(&strategy("last_name", ""), "text", "Doe").as_str()));
    }

    #[test]
    fn unknown_locale_is_rejected() {
        let err = try_load("city", "locale: de", true).unwrap_err();
        assert_eq!(err.code.id, "CONFIG_010");
        assert!(err.message.contains("'columns.c.locale'"));
    }
}
