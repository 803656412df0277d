//! `type-naming`: enums and domains, and enum labels, in lower snake_case.

use confiture_core::schema::TypeKind;

use crate::finding::Finding;
use crate::inputs::SchemaInput;
use crate::rule::{Category, Check, Context, Rule};
use crate::rules::util::{is_snake_case, to_snake_case};
use crate::Severity;

pub static RULE: Rule = Rule {
    id: "type-naming",
    category: Category::Naming,
    severity: Severity::Info,
    summary: "Enums, domains and enum labels in lower snake_case",
    explanation: "Enum and domain names appear in column types, casts and function \
signatures: in lower snake_case they never need quotes. Enum labels are compared as exact, \
case-sensitive strings (`'Active'` is not `'active'`); one spelling for all labels avoids \
mismatches between the database and the application.\n\nAn optional convention (info): rename \
the type (`ALTER TYPE s.t RENAME TO …`) or a label (`ALTER TYPE s.t RENAME VALUE 'Old' TO \
'old';`, which the application must follow), or turn the rule off in `linting.rules`.",
    bundle: None,
    check: Check::Schema(check),
};

fn check(s: &SchemaInput, _ctx: &Context, out: &mut Vec<Finding>) {
    for (key, t) in &s.model.types {
        let (what, labels) = match &t.kind {
            TypeKind::Enum { labels } => ("enum", labels.as_slice()),
            TypeKind::Domain { .. } => ("domain", &[][..]),
            TypeKind::Composite { .. } => continue,
        };
        let loc = s.locations.get("type", key);
        if !is_snake_case(&t.name) {
            out.push(
                Finding::new(&RULE, format!("{what} {key} is not in lower snake_case"))
                    .object(key)
                    .at(loc)
                    .fix(format!("rename it to {}", to_snake_case(&t.name))),
            );
        }
        let odd: Vec<&String> = labels.iter().filter(|l| !is_snake_case(l)).collect();
        if !odd.is_empty() {
            let list = odd
                .iter()
                .map(|l| format!("'{l}'"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(
                Finding::new(
                    &RULE,
                    format!("enum {key} has labels not in lower snake_case: {list}"),
                )
                .object(key)
                .at(loc)
                .fix(format!(
                    "ALTER TYPE … RENAME VALUE '{}' TO '{}'; (and the application's values)",
                    odd[0],
                    to_snake_case(odd[0])
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::structure::testing::*;
    use confiture_core::config::linting::LintingConfig;
    use confiture_core::schema::{Schema, TypeDef};

    fn with_type(model: &mut Schema, name: &str, kind: TypeKind) {
        model.types.insert(
            format!("app.{name}"),
            TypeDef {
                schema: "app".into(),
                name: name.into(),
                kind,
                owner: "app".into(),
                comment: None,
            },
        );
    }

    fn domain() -> TypeKind {
        TypeKind::Domain {
            base: "text".into(),
            default: None,
            not_null: false,
            collation: None,
            checks: Default::default(),
        }
    }

    #[test]
    fn fires_on_names_and_labels() {
        let mut model = schema(vec![]);
        with_type(
            &mut model,
            "OrderStatus",
            TypeKind::Enum {
                labels: vec!["new".into(), "InProgress".into(), "DONE".into()],
            },
        );
        with_type(&mut model, "EmailAddress", domain());
        let f = run(&RULE, &model, &LintingConfig::default());
        assert_eq!(
            objects(&f),
            ["app.EmailAddress", "app.OrderStatus", "app.OrderStatus"]
        );
        assert!(f
            .iter()
            .all(|f| f.rule == "type-naming" && f.severity == Severity::Info));
        assert!(
            f[2].message.ends_with("'InProgress', 'DONE'"),
            "{}",
            f[2].message
        );
        assert_eq!(f[0].fix.as_deref(), Some("rename it to email_address"));
    }

    #[test]
    fn snake_case_types_and_composites_pass() {
        let mut model = schema(vec![]);
        with_type(
            &mut model,
            "order_status",
            TypeKind::Enum {
                labels: vec!["new".into(), "in_progress".into()],
            },
        );
        with_type(&mut model, "email", domain());
        with_type(
            &mut model,
            "Point3D",
            TypeKind::Composite { attributes: vec![] },
        );
        assert!(run(&RULE, &model, &LintingConfig::default()).is_empty());
    }
}
