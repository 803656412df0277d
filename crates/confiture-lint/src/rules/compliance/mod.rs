//! Compliance rules, in bundles (`gdpr`, `hipaa`, `pci-dss`, `sox`): each runs only when its
//! bundle is listed in `linting.compliance` (or the rule, its bundle or `compliance` is
//! selected with `--select`).

pub mod gdpr_pii_anonymized;
pub mod gdpr_pii_documented;
pub mod hipaa_audit_table;
pub mod hipaa_phi_rls;
pub mod pci_card_number_plaintext;
pub mod pci_cvv_stored;
pub mod sox_audit_append_only;
pub mod sox_audit_immutable_trigger;

use crate::rule::Rule;

pub const RULES: &[&Rule] = &[
    &gdpr_pii_anonymized::RULE,
    &gdpr_pii_documented::RULE,
    &hipaa_audit_table::RULE,
    &hipaa_phi_rls::RULE,
    &pci_card_number_plaintext::RULE,
    &pci_cvv_stored::RULE,
    &sox_audit_append_only::RULE,
    &sox_audit_immutable_trigger::RULE,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{selected, Selection};
    use confiture_core::config::linting::{LintingConfig, COMPLIANCE_BUNDLES};
    use confiture_core::error::Location;

    fn ids(config: &LintingConfig, selection: &Selection) -> Vec<&'static str> {
        selected(config, selection).iter().map(|r| r.id).collect()
    }

    #[test]
    fn every_bundle_has_two_checks() {
        for b in COMPLIANCE_BUNDLES {
            assert!(
                RULES.iter().filter(|r| r.bundle == Some(b)).count() >= 2,
                "{b}"
            );
        }
        assert!(RULES.iter().all(|r| r.bundle.is_some()));
    }

    #[test]
    fn bundles_do_not_run_by_default() {
        let run = ids(&LintingConfig::default(), &Selection::default());
        assert!(RULES.iter().all(|r| !run.contains(&r.id)));
        assert!(run.contains(&"public-grants"));
    }

    #[test]
    fn a_listed_bundle_runs() {
        let config = LintingConfig {
            compliance: vec![("gdpr".into(), Location::file("db/environments/local.yaml"))],
            ..LintingConfig::default()
        };
        let run = ids(&config, &Selection::default());
        for r in RULES {
            assert_eq!(run.contains(&r.id), r.bundle == Some("gdpr"), "{}", r.id);
        }
        // Selected by id or bundle, a rule runs without the configuration.
        let sel = Selection {
            select: vec!["pci-dss".into()],
            ignore: Vec::new(),
        };
        let run = ids(&LintingConfig::default(), &sel);
        assert_eq!(run, ["pci-card-number-plaintext", "pci-cvv-stored"]);
    }
}
