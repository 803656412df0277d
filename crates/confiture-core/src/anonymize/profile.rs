//! Anonymization profiles: which strategy anonymizes which column of which table.
//!
//! A profile is a YAML file in the shape of the vision documents, decoded strictly like the
//! other configuration files (unknown keys with "did you mean", `${VAR}` expansion, errors at
//! file, line and column with dotted key paths):
//!
//! ```yaml
//! anonymization_profile: qa        # or name:; default: the file stem
//! description: "..."
//! salt: ${ANON_SALT}               # default key of keyed strategies
//! strict: true                     # default true: uncovered PII columns stop the sync
//! immutable: [tenant_id]           # columns (in any table) that must never change
//! strategies:                      # named, reusable strategies
//!   email_mask: {type: email_masking, keep_domain: true, prefix: "qa+"}
//!   uuid_hash:  {type: deterministic_hash, salt: "${QA_ANON_SALT}", algorithm: sha256}
//! rules:
//!   - table: users                 # schema.table, or unqualified = public
//!     columns:
//!       email: {strategy: email_mask}                     # a named or built-in strategy
//!       phone: phone                                      # the same, shorter
//!       total: {type: random_in_range, min: 1, max: 5}    # an inline definition
//!   - table: admin_logs
//!     strategy: skip_table                                # not synced at all
//! ```
//!
//! References (`strategy: X`, or a bare `X`) resolve to a named strategy first, then to a
//! built-in one (aliases included); inside `conditional` and `json_path` too. A named or inline
//! definition with its own `salt` runs under that key; every other strategy runs under the
//! profile's `salt` (or, without one, the per-process key). Invalid values and profile-level
//! mistakes (unknown strategy, the same table twice, an immutable column anonymized) are
//! `ANON_PROFILE_INVALID`; YAML, type, unknown-key and missing-key errors keep their
//! `CONFIG_*` codes.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::codes;
use crate::config::decode::{suggest, Decoder};
use crate::config::source;
use crate::error::{ConfitureError, Location, Result};
use crate::yaml::{self, Node, Value};

use super::{load_spec, Key, Keyed, Named, Row, Scope, Strategy};

/// The table-level strategy that leaves a table out of the sync.
pub const SKIP_TABLE: &str = "skip_table";

/// A decoded profile. `Debug` never prints keys.
#[derive(Debug, Clone)]
pub struct Profile {
    /// `anonymization_profile:` (or `name:`), else the file stem.
    pub name: String,
    pub description: Option<String>,
    pub file: PathBuf,
    /// Whether columns that look like personal data and have no rule stop the sync.
    pub strict: bool,
    /// Columns (in any table) that must never change. A rule on one of them must be
    /// `preserve`.
    pub immutable: Vec<String>,
    /// The profile's `salt`: the key of every strategy without its own.
    pub key: Option<Key>,
    /// In file order.
    pub tables: Vec<TableRule>,
}

/// The rule of one table.
#[derive(Debug, Clone)]
pub struct TableRule {
    pub schema: String,
    pub table: String,
    /// `strategy: skip_table`: the table is not synced.
    pub skip: bool,
    /// In file order (empty when skipped).
    pub columns: Vec<ColumnRule>,
    /// Line of the rule in the profile.
    pub line: usize,
}

/// The strategy of one column.
#[derive(Debug, Clone)]
pub struct ColumnRule {
    pub column: String,
    pub strategy: Strategy,
    /// The name as written (a named or built-in strategy), or the type of an inline definition.
    pub strategy_name: String,
    /// The key the strategy runs under: its own `salt`, else the profile's; `None` for the
    /// per-process key.
    pub key: Option<Key>,
    /// Line of the column in the profile.
    pub line: usize,
}

impl Profile {
    /// Read and decode the profile at `path`. `lookup` resolves `${VAR}` (normally the process
    /// environment). A missing, unreadable or non-UTF-8 file is `CONFIG_001/002/003`.
    pub fn load(path: &Path, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Profile> {
        let text = source::read_text(path)?;
        Profile::parse(&text, path, lookup)
    }

    /// Decode profile `text`, read from `path` (for messages and the default name).
    pub fn parse(
        text: &str,
        path: &Path,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Profile> {
        let Some(root) = yaml::parse(text, path)? else {
            return Err(ConfitureError::new(
                codes::CONFIG_EMPTY,
                format!("{} is empty", path.display()),
            )
            .with_hint("a profile needs at least rules: (a list of tables and their columns)")
            .at(Location::at(path, 1, 1)));
        };
        let dec = Decoder { file: path, lookup };
        if super::legacy::is_rules_file(&root) {
            return decode(&dec, &super::legacy::to_profile(&root), path);
        }
        decode(&dec, &root, path)
    }

    /// The rule of `schema.table`, if any.
    pub fn table(&self, schema: &str, table: &str) -> Option<&TableRule> {
        self.tables
            .iter()
            .find(|t| t.schema == schema && t.table == table)
    }
}

impl TableRule {
    /// The rule of `column`, if any.
    pub fn column(&self, column: &str) -> Option<&ColumnRule> {
        self.columns.iter().find(|c| c.column == column)
    }
}

impl ColumnRule {
    /// The [`Row`] of one value of this column, under this rule's key. `columns`: the row's
    /// columns as `(name, TEXT value)`, at least those of [`ColumnRule::context_columns`].
    pub fn row<'a>(
        &'a self,
        column_type: &'a str,
        columns: &'a [(&'a str, Option<&'a str>)],
    ) -> Row<'a> {
        Row {
            column_type,
            columns,
            key: self.key.as_ref(),
        }
    }

    /// Whether the same input gives the same output on every run (see
    /// [`Strategy::deterministic`]).
    pub fn deterministic(&self) -> bool {
        self.strategy.deterministic(self.key.is_some())
    }

    /// The other columns of the row the strategy reads.
    pub fn context_columns(&self) -> Vec<String> {
        self.strategy.context_columns()
    }
}

fn decode(dec: &Decoder, root: &Node, path: &Path) -> Result<Profile> {
    let mut top = dec.map(root, "")?;
    let name_node = top.get("anonymization_profile");
    let alt_name_node = top.get("name");
    let description = top.get("description");
    let salt = top.get("salt");
    let strict = top.get("strict");
    let immutable = top.get("immutable");
    let strategies = top.get("strategies");
    let rules = top.get("rules");
    top.finish(dec)?;

    let name =
        match (name_node, alt_name_node) {
            (Some(_), Some(n)) => return Err(dec
                .error(
                    codes::ANON_PROFILE_INVALID,
                    n,
                    "'name' is another spelling of 'anonymization_profile': give only one of them",
                )
                .with_hint("remove 'name' or 'anonymization_profile'")),
            (Some(n), None) => non_empty(dec, n, "anonymization_profile")?,
            (None, Some(n)) => non_empty(dec, n, "name")?,
            (None, None) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
    let description = description
        .map(|n| dec.string(n, "description"))
        .transpose()?;
    let key = salt
        .map(|n| -> Result<Key> {
            let salt = dec.string(n, "salt")?;
            if salt.is_empty() {
                return Err(dec
                    .error(codes::ANON_PROFILE_INVALID, n, "'salt' is empty")
                    .with_hint(
                        "an empty salt is no secret: set the variable to a long random value",
                    ));
            }
            Ok(Key::new(salt))
        })
        .transpose()?;
    let strict = strict
        .map(|n| dec.bool(n, "strict"))
        .transpose()?
        .unwrap_or(true);
    let mut immutable_cols: Vec<(String, &Node)> = Vec::new();
    if let Some(n) = immutable {
        for (i, item) in dec.seq(n, "immutable")?.iter().enumerate() {
            let col = non_empty(dec, item, &format!("immutable[{i}]"))?;
            if !immutable_cols.iter().any(|(c, _)| *c == col) {
                immutable_cols.push((col, item));
            }
        }
    }

    // Named strategies, loaded (and so checked) in file order, used or not.
    let mut defs = Vec::new();
    if let Some(n) = strategies {
        dec.map(n, "strategies")?;
        if let Value::Map(entries) = &n.value {
            defs.extend(entries.iter().map(|(k, v)| (k.key_text(), v)));
        }
    }
    let named = NamedStrategies {
        slots: RefCell::new(vec![Slot::Unloaded; defs.len()]),
        defs,
        profile_key: key.clone(),
    };
    for i in 0..named.defs.len() {
        named.load(i, dec, None)?;
    }
    let scope = Scope {
        keyed: key.is_some(),
        named: Some(&named),
        code: codes::ANON_PROFILE_INVALID,
    };

    let mut tables: Vec<TableRule> = Vec::new();
    let items = match rules {
        Some(n) => dec.seq(n, "rules")?,
        None => &[],
    };
    for (i, item) in items.iter().enumerate() {
        let rule = table_rule(dec, item, &format!("rules[{i}]"), scope, &key)?;
        if let Some(first) = tables
            .iter()
            .find(|t| t.schema == rule.schema && t.table == rule.table)
        {
            return Err(ConfitureError::new(
                codes::ANON_PROFILE_INVALID,
                format!(
                    "'rules[{i}]': table {}.{} already has a rule (lines {} and {})",
                    rule.schema, rule.table, first.line, rule.line
                ),
            )
            .with_hint("give each table one rule: merge their columns")
            .at(Location::at(dec.file, rule.line, item.column)));
        }
        tables.push(rule);
    }

    for (col, node) in &immutable_cols {
        for t in &tables {
            let Some(rule) = t.column(col) else { continue };
            if rule.strategy != Strategy::Preserve {
                return Err(ConfitureError::new(
                    codes::ANON_PROFILE_INVALID,
                    format!(
                        "column {col} of {}.{} is immutable (line {}) but its rule anonymizes \
                         it with {}",
                        t.schema, t.table, node.line, rule.strategy_name
                    ),
                )
                .with_hint(format!(
                    "use strategy: none (preserve) for {col}, or remove it from immutable"
                ))
                .at(Location::at(dec.file, rule.line, 1)));
            }
        }
    }

    Ok(Profile {
        name,
        description,
        file: path.to_path_buf(),
        strict,
        immutable: immutable_cols.into_iter().map(|(c, _)| c).collect(),
        key,
        tables,
    })
}

/// A non-empty string.
fn non_empty(dec: &Decoder, node: &Node, path: &str) -> Result<String> {
    let s = dec.string(node, path)?;
    if s.is_empty() {
        return Err(dec.error(
            codes::ANON_PROFILE_INVALID,
            node,
            format!("'{path}' is empty"),
        ));
    }
    Ok(s)
}

fn table_rule(
    dec: &Decoder,
    item: &Node,
    path: &str,
    scope: Scope,
    profile_key: &Option<Key>,
) -> Result<TableRule> {
    let mut m = dec.map(item, path)?;
    let table_node = m.get("table");
    let strategy_node = m.get("strategy");
    let columns_node = m.get("columns");
    let columns_key = m.key_node("columns");
    m.finish(dec)?;
    let Some(table_node) = table_node else {
        return Err(dec
            .error(
                codes::CONFIG_MISSING_KEY,
                item,
                format!("'{path}.table' is required"),
            )
            .with_hint("- table: users (or schema.table)"));
    };
    let qualified = dec.string(table_node, &format!("{path}.table"))?;
    let (schema, table) = match qualified.split_once('.') {
        None if !qualified.is_empty() => ("public".to_string(), qualified.clone()),
        Some((s, t)) if !s.is_empty() && !t.is_empty() && !t.contains('.') => {
            (s.to_string(), t.to_string())
        }
        _ => {
            return Err(dec
                .error(
                    codes::ANON_PROFILE_INVALID,
                    table_node,
                    format!("'{path}.table' must be table or schema.table, found '{qualified}'"),
                )
                .with_hint("names are written as in the catalog, without quotes"))
        }
    };
    let skip = match strategy_node {
        None => false,
        Some(n) => {
            let spath = format!("{path}.strategy");
            let s = dec.string(n, &spath)?;
            if s != SKIP_TABLE {
                let err = dec.error(
                    codes::ANON_PROFILE_INVALID,
                    n,
                    format!("'{spath}': a table's strategy can only be skip_table, found '{s}'"),
                );
                return Err(match suggest(&s, &[SKIP_TABLE]) {
                    Some(x) => err.with_hint(format!("did you mean '{x}'?")),
                    None => err.with_hint(
                        "anonymize columns under columns: (email: email_mask), \
                         or leave the table out with strategy: skip_table",
                    ),
                });
            }
            true
        }
    };
    let line = item.line;
    let Some(columns_node) = columns_node else {
        if !skip {
            return Err(dec
                .error(
                    codes::CONFIG_MISSING_KEY,
                    item,
                    format!("'{path}' needs columns: or strategy: skip_table"),
                )
                .with_hint("columns: {email: email_mask}"));
        }
        return Ok(TableRule {
            schema,
            table,
            skip,
            columns: Vec::new(),
            line,
        });
    };
    let cpath = format!("{path}.columns");
    dec.map(columns_node, &cpath)?;
    let entries: &[(Node, Node)] = match &columns_node.value {
        Value::Map(entries) => entries,
        _ => &[],
    };
    if skip && !entries.is_empty() {
        return Err(dec
            .error(
                codes::ANON_PROFILE_INVALID,
                columns_key.unwrap_or(columns_node),
                format!(
                    "'{cpath}': table {schema}.{table} is skipped (skip_table), \
                     its column rules would never apply"
                ),
            )
            .with_hint("remove strategy: skip_table, or the columns"));
    }
    let mut columns: Vec<ColumnRule> = Vec::new();
    for (k, v) in entries {
        let column = k.key_text();
        let colpath = format!("{cpath}.{column}");
        if let Some(first) = columns.iter().find(|c| c.column == column) {
            return Err(dec.error(
                codes::ANON_PROFILE_INVALID,
                k,
                format!(
                    "'{colpath}': column {column} already has a rule (lines {} and {})",
                    first.line, k.line
                ),
            ));
        }
        if v.value == Value::Null {
            // An empty value's position is where the next token starts: point at the key.
            return Err(dec
                .error(
                    codes::CONFIG_WRONG_TYPE,
                    k,
                    format!("'{colpath}' has no strategy"),
                )
                .with_hint(format!("{column}: none (to keep it), or {column}: redact")));
        }
        let (strategy, strategy_name) = load_spec(dec, v, &colpath, scope)?;
        let (strategy, key) = match strategy {
            Strategy::Keyed(k) => {
                let Keyed { key, strategy } = *k;
                (strategy, key)
            }
            s => (s, profile_key.clone()),
        };
        columns.push(ColumnRule {
            column,
            strategy,
            strategy_name,
            key,
            line: k.line,
        });
    }
    Ok(TableRule {
        schema,
        table,
        skip,
        columns,
        line,
    })
}

/// A profile's `strategies:`, loaded on first use (references may point forward).
struct NamedStrategies<'n> {
    defs: Vec<(String, &'n Node)>,
    slots: RefCell<Vec<Slot>>,
    profile_key: Option<Key>,
}

#[derive(Clone)]
enum Slot {
    Unloaded,
    Loading,
    Loaded(Strategy),
}

impl NamedStrategies<'_> {
    /// Named strategy `i`, wrapped with the key it runs under (its own `salt`, else the
    /// profile's). `at`: the reference being resolved, if any.
    fn load(&self, i: usize, dec: &Decoder, at: Option<(&Node, &str)>) -> Result<Strategy> {
        let (name, node) = &self.defs[i];
        match &self.slots.borrow()[i] {
            Slot::Loaded(s) => return Ok(s.clone()),
            Slot::Loading => {
                let (at, path) = at.unwrap_or((node, ""));
                return Err(dec
                    .error(
                        codes::ANON_PROFILE_INVALID,
                        at,
                        format!("'{path}': named strategy '{name}' refers back to itself"),
                    )
                    .with_hint("a named strategy cannot use itself, directly or through others"));
            }
            Slot::Unloaded => {}
        }
        self.slots.borrow_mut()[i] = Slot::Loading;
        let scope = Scope {
            keyed: self.profile_key.is_some(),
            named: Some(self),
            code: codes::ANON_PROFILE_INVALID,
        };
        let result =
            load_spec(dec, node, &format!("strategies.{name}"), scope).map(|(s, _)| match s {
                Strategy::Keyed(_) => s,
                s => Strategy::Keyed(Box::new(Keyed {
                    key: self.profile_key.clone(),
                    strategy: s,
                })),
            });
        self.slots.borrow_mut()[i] = match &result {
            Ok(s) => Slot::Loaded(s.clone()),
            Err(_) => Slot::Unloaded,
        };
        result
    }
}

impl Named for NamedStrategies<'_> {
    fn resolve(
        &self,
        name: &str,
        dec: &Decoder,
        at: &Node,
        path: &str,
    ) -> Option<Result<Strategy>> {
        let i = self.defs.iter().position(|(n, _)| n == name)?;
        Some(self.load(i, dec, Some((at, path))))
    }

    fn names(&self) -> Vec<String> {
        self.defs.iter().map(|(n, _)| n.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vision document's QA profile (PHASE_4_LONG_TERM_STRATEGY.md, "Configuration Format").
    const VISION_QA: &str = r#"# confiture-environments/qa-anonymization.yaml
anonymization_profile: qa
description: |
  Safe for QA team (real-looking but anonymous data)
  - Names: kept intact for readability
  - Emails: masked domain
  - Sensitive: fully anonymized

strategies:
  email_mask:
    type: email_masking
    keep_domain: true
    prefix: "qa+"

  phone_mask:
    type: pattern_masking
    pattern: "***-***-9999"

  ssn_mask:
    type: pattern_masking
    pattern: "***-**-####"  # Keep last 4 digits

  uuid_hash:
    type: deterministic_hash
    salt: "${QA_ANON_SALT}"  # From environment variable
    algorithm: sha256

rules:
  - table: users
    columns:
      first_name:
        strategy: none  # Keep names readable for QA
      last_name:
        strategy: none
      email:
        strategy: email_mask
      phone:
        strategy: phone_mask
      ssn:
        strategy: ssn_mask
      password_hash:
        strategy: uuid_hash  # Hash for consistency

  - table: customers
    columns:
      contact_email:
        strategy: email_mask
      contact_phone:
        strategy: phone_mask
      tax_id:
        strategy: ssn_mask

  - table: orders
    columns:
      customer_id:
        # Conditional: keep internal customer IDs, anonymize external
        type: conditional
        condition: |
          row['is_internal_customer'] == true
        if_true:
          strategy: none
        if_false:
          strategy: uuid_hash

  - table: admin_logs
    # Special handling: don't sync to QA at all
    strategy: skip_table
"#;

    /// The vision document's PrintOptim test profile ("PrintOptim-Specific Example").
    const VISION_TEST: &str = r#"# confiture-environments/test-anonymization-printoptim.yaml
anonymization_profile: test
description: Test environment - strong anonymization

strategies:
  email_mask:
    type: email_masking
    keep_domain: false
    prefix: "test+"

  phone_mask:
    type: pattern_masking
    pattern: "555-5555"

  tenant_hash:
    type: deterministic_hash
    salt: "${TEST_TENANT_SALT}"

rules:
  # Common schema
  - table: audit_log
    strategy: skip_table  # Never sync audit logs

  - table: entity_change_log
    strategy: skip_table  # Never sync change history

  # Write side
  - table: w_customers
    columns:
      email:
        strategy: email_mask
      phone:
        strategy: phone_mask
      tenant_id:
        # CRITICAL: Must keep tenant_id for data integrity!
        strategy: none

  - table: w_orders
    columns:
      tenant_id:
        strategy: none  # Keep for relational integrity
      payment_method:
        strategy: uuid_hash  # Mask payment data
      billing_address:
        strategy: none  # Address OK for testing

  # Read side
  - table: r_customer_lifetime_value
    columns:
      tenant_id:
        strategy: none
      customer_id:
        # Mask but keep deterministic (consistent with w_customers)
        strategy: uuid_hash
      total_spent:
        # Randomize amounts to protect real data
        type: custom
        strategy: random_in_range
        min: 100
        max: 50000
"#;

    /// The vision document's PrintOptim QA profile ("Define Anonymization Profiles").
    const VISION_PRINTOPTIM_QA: &str = r#"# printoptim/confiture-environments/qa-anonymization.yaml
anonymization_profile: qa
description: "Safe for QA team - keeps structure, anonymizes PII"

strategies:
  email_mask:
    type: email_masking
    keep_domain: true
    prefix: "qa+"

  name_keep:
    type: no_anonymization

  ssn_mask:
    type: pattern_masking
    pattern: "***-**-####"

  uuid_hash:
    type: deterministic_hash
    salt: "${QA_ANON_SALT}"
    algorithm: sha256

rules:
  # Common tables
  - table: w_tenants
    strategy: skip_table  # Never anonymize tenant list

  - table: audit_log
    strategy: skip_table

  # Write side - customers
  - table: w_customers
    columns:
      tenant_id:
        strategy: none  # CRITICAL: Required for joins
      first_name:
        strategy: name_keep  # OK for QA
      last_name:
        strategy: name_keep
      email:
        strategy: email_mask
      phone:
        strategy: ssn_mask  # Use same format
      ssn:
        strategy: ssn_mask

  # Write side - orders
  - table: w_orders
    columns:
      tenant_id:
        strategy: none  # CRITICAL: Required for multi-tenancy
      customer_id:
        strategy: uuid_hash  # Mask but keep deterministic
      shipping_address:
        strategy: none  # OK for QA testing
      payment_token:
        strategy: uuid_hash
      total:
        strategy: none  # Keep amounts for budget testing

  # Read side - CLV
  - table: r_customer_lifetime_value
    columns:
      tenant_id:
        strategy: none  # CRITICAL
      customer_id:
        strategy: uuid_hash  # Match w_orders anonymization
      total_spent:
        # Randomize to protect real financial data
        type: custom_function
        function: random_decimal(100, 50000)
"#;

    fn env(name: &str) -> Option<String> {
        match name {
            "QA_ANON_SALT" => Some("qa-secret".into()),
            "TEST_TENANT_SALT" => Some("tenant-secret".into()),
            "ANON_SALT" => Some("profile-secret".into()),
            _ => None,
        }
    }

    fn parse(text: &str) -> Result<Profile> {
        Profile::parse(text, Path::new("db/anonymization/qa.yaml"), &env)
    }

    fn ok(text: &str) -> Profile {
        parse(text).unwrap_or_else(|e| panic!("{} ({:?}) hint {:?}", e.message, e.location, e.hint))
    }

    fn err(text: &str) -> ConfitureError {
        parse(text).expect_err("the profile should be refused")
    }

    fn line(e: &ConfitureError) -> usize {
        e.location.clone().and_then(|l| l.line).unwrap_or(0)
    }

    /// The line (1-based) of the first line of `text` containing `needle`.
    fn line_of(text: &str, needle: &str) -> usize {
        text.lines()
            .position(|l| l.contains(needle))
            .expect("needle")
            + 1
    }

    fn col<'p>(p: &'p Profile, table: &str, column: &str) -> &'p ColumnRule {
        let (schema, table) = table.split_once('.').unwrap_or(("public", table));
        p.table(schema, table)
            .and_then(|t| t.column(column))
            .unwrap_or_else(|| panic!("no rule for {table}.{column}"))
    }

    fn apply(rule: &ColumnRule, ty: &str, row: &[(&str, Option<&str>)], v: &str) -> String {
        rule.strategy
            .apply(Some(v), &rule.row(ty, row))
            .expect("not NULL")
    }

    #[test]
    fn vision_qa_profile_parses_and_applies() {
        let p = ok(VISION_QA);
        assert_eq!(p.name, "qa");
        assert!(p
            .description
            .as_deref()
            .unwrap()
            .starts_with("Safe for QA team"));
        assert!(p.strict);
        assert!(p.key.is_none());
        let names: Vec<_> = p.tables.iter().map(|t| t.table.as_str()).collect();
        assert_eq!(names, ["users", "customers", "orders", "admin_logs"]);
        assert!(p.tables.iter().all(|t| t.schema == "public"));
        let logs = p.table("public", "admin_logs").unwrap();
        assert!(logs.skip && logs.columns.is_empty());
        assert_eq!(logs.line, line_of(VISION_QA, "- table: admin_logs"));

        let first = col(&p, "users", "first_name");
        assert_eq!(first.strategy, Strategy::Preserve);
        assert_eq!(first.strategy_name, "none");
        let email = col(&p, "users", "email");
        assert_eq!(email.strategy_name, "email_mask");
        assert!(matches!(email.strategy, Strategy::EmailMask(_)));
        assert!(email.key.is_none());
        assert!(
            !email.deterministic(),
            "no profile salt: stable within a run only"
        );
        assert!(apply(email, "text", &[], "Alice@Corp.com").starts_with("qa+_"));
        let ssn = col(&p, "users", "ssn");
        assert_eq!(apply(ssn, "text", &[], "123-45-6789"), "***-**-6789");
        assert_eq!(ssn.line, line_of(VISION_QA, "      ssn:"));

        let pw = col(&p, "users", "password_hash");
        assert_eq!(pw.key, Some(Key::new("qa-secret")));
        assert!(pw.deterministic());
        assert!(matches!(pw.strategy, Strategy::DeterministicHash(_)));

        // The conditional: row['is_internal_customer'] == true keeps, else uuid_hash under its
        // own salt (the profile has none).
        let cid = col(&p, "orders", "customer_id");
        assert_eq!(cid.strategy_name, "conditional");
        assert_eq!(cid.context_columns(), ["is_internal_customer"]);
        assert!(cid.deterministic());
        let id = "8d7f4f7e-2f4e-4a7c-9a51-5b0f1d6c2a10";
        let internal = [("is_internal_customer", Some("t"))];
        let external = [("is_internal_customer", Some("f"))];
        assert_eq!(apply(cid, "uuid", &internal, id), id);
        let hashed = apply(cid, "uuid", &external, id);
        assert_ne!(hashed, id);
        // Same named strategy, same key: the same output as users.password_hash would give.
        assert_eq!(hashed, apply(pw, "uuid", &[], id));
        assert_eq!(
            hashed,
            apply(cid, "uuid", &[], id),
            "absent column counts as NULL"
        );
    }

    #[test]
    fn vision_test_profile_names_an_undefined_strategy() {
        // The document's profile uses uuid_hash without defining it.
        let e = err(VISION_TEST);
        assert_eq!(e.code.id, "ANON_001");
        assert!(
            e.message
                .contains("unknown anonymization strategy 'uuid_hash'"),
            "{}",
            e.message
        );
        assert_eq!(
            line(&e),
            line_of(VISION_TEST, "strategy: uuid_hash  # Mask payment data")
        );
        // Defined, it parses, including `type: custom` + `strategy: random_in_range`.
        let fixed = VISION_TEST.replace(
            "strategies:\n",
            "strategies:\n  uuid_hash:\n    type: deterministic_hash\n    salt: ${QA_ANON_SALT}\n",
        );
        let p = ok(&fixed);
        assert_eq!(p.name, "test");
        assert_eq!(p.tables.len(), 5);
        assert!(p.table("public", "audit_log").unwrap().skip);
        let total = col(&p, "r_customer_lifetime_value", "total_spent");
        assert_eq!(total.strategy_name, "random_in_range");
        let v: i64 = apply(total, "integer", &[], "1234").parse().unwrap();
        assert!((100..=50_000).contains(&v));
        assert_eq!(
            col(&p, "w_customers", "tenant_id").strategy,
            Strategy::Preserve
        );
    }

    #[test]
    fn vision_printoptim_profile_refuses_custom_functions() {
        let e = err(VISION_PRINTOPTIM_QA);
        assert_eq!(e.code.id, "ANON_001");
        assert!(e
            .message
            .contains("custom strategies (Python callables) are not supported"));
        assert_eq!(
            line(&e),
            line_of(VISION_PRINTOPTIM_QA, "type: custom_function")
        );
        let fixed = VISION_PRINTOPTIM_QA.replace(
            "        type: custom_function\n        function: random_decimal(100, 50000)",
            "        type: random_in_range\n        min: 100.00\n        max: 50000.00",
        );
        let p = ok(&fixed);
        assert_eq!(p.tables.len(), 5);
        assert!(p.table("public", "w_tenants").unwrap().skip);
        assert_eq!(
            col(&p, "w_customers", "first_name").strategy_name,
            "name_keep"
        );
        assert_eq!(
            col(&p, "w_customers", "first_name").strategy,
            Strategy::Preserve
        );
    }

    const RESOLUTION: &str = "\
salt: ${ANON_SALT}
strategies:
  phone: {type: redact, with: PHONE}
  hashed: {type: deterministic_hash, salt: own-secret}
rules:
  - table: app.users
    columns:
      a: phone
      b: {strategy: email_mask}
      c: {type: redact, with: X}
      d: {strategy: hashed}
      e: {type: deterministic_hash}
      f: {type: deterministic_hash, salt: own-secret, algorithm: SHA256}
      g: ip
      h: {strategy: hashed}
";

    #[test]
    fn named_then_builtin_then_inline() {
        let p = ok(RESOLUTION);
        assert_eq!(p.name, "qa", "the file stem");
        assert_eq!(p.key, Some(Key::new("profile-secret")));
        assert!(p.table("public", "users").is_none());
        let a = col(&p, "app.users", "a");
        assert_eq!(
            apply(a, "text", &[], "555-1234"),
            "PHONE",
            "named shadows built-in"
        );
        assert_eq!(a.strategy_name, "phone");
        let b = col(&p, "app.users", "b");
        assert!(matches!(b.strategy, Strategy::EmailMask(_)));
        assert_eq!(b.key, p.key);
        assert!(b.deterministic());
        let c = col(&p, "app.users", "c");
        assert_eq!(
            (
                c.strategy_name.as_str(),
                apply(c, "text", &[], "v").as_str()
            ),
            ("redact", "X")
        );
        assert!(matches!(
            col(&p, "app.users", "g").strategy,
            Strategy::Ip(_)
        ));
    }

    #[test]
    fn own_salt_gives_another_key_than_the_profile() {
        let p = ok(RESOLUTION);
        let (d, e, f) = (
            col(&p, "app.users", "d"),
            col(&p, "app.users", "e"),
            col(&p, "app.users", "f"),
        );
        assert_eq!(d.key, Some(Key::new("own-secret")));
        assert_eq!(e.key, Some(Key::new("profile-secret")));
        for ty in ["text", "uuid", "bigint"] {
            let v = if ty == "uuid" {
                "8d7f4f7e-2f4e-4a7c-9a51-5b0f1d6c2a10"
            } else {
                "42"
            };
            assert_ne!(apply(d, ty, &[], v), apply(e, ty, &[], v), "{ty}");
            assert_eq!(apply(d, ty, &[], v), apply(f, ty, &[], v), "{ty}");
            assert_eq!(
                apply(d, ty, &[], v),
                apply(col(&p, "app.users", "h"), ty, &[], v)
            );
        }
    }

    #[test]
    fn nested_references_keep_their_own_key() {
        let text = "\
salt: ${ANON_SALT}
strategies:
  hashed: {type: deterministic_hash, salt: own-secret}
  by_kind:
    type: conditional
    condition: |
      row[\"kind\"] == 'internal'
    if_true: {strategy: none}
    if_false: {strategy: hashed}
rules:
  - table: t
    columns:
      x: {strategy: by_kind}
      y: hashed
      z:
        type: json_path
        path: $.owner
        strategy: by_kind
";
        let p = ok(text);
        let (x, y, z) = (col(&p, "t", "x"), col(&p, "t", "y"), col(&p, "t", "z"));
        assert_eq!(x.key, p.key, "by_kind has no salt of its own");
        assert_eq!(x.context_columns(), ["kind"]);
        assert_eq!(z.context_columns(), ["kind"]);
        let internal = [("kind", Some("internal"))];
        let other = [("kind", Some("customer"))];
        assert_eq!(apply(x, "text", &internal, "v1"), "v1");
        assert_eq!(apply(x, "text", &other, "v1"), apply(y, "text", &[], "v1"));
        assert_eq!(
            apply(z, "jsonb", &other, r#"{"owner":"v1"}"#),
            format!(r#"{{"owner":"{}"}}"#, apply(y, "text", &[], "v1"))
        );
    }

    #[test]
    fn missing_variable_names_its_line() {
        let e = err("rules: []\nsalt: ${NOPE}\n");
        assert_eq!(e.code.id, "CONFIG_007");
        assert_eq!(line(&e), 2);
        assert!(e.message.contains("NOPE"));
        let e = err("strategies:\n  h:\n    type: deterministic_hash\n    salt: ${NOPE}\n");
        assert_eq!((e.code.id, line(&e)), ("CONFIG_007", 4));
        assert!(e.message.contains("'strategies.h.salt'"), "{}", e.message);
    }

    #[test]
    fn unknown_strategies_are_suggested() {
        let text = "\
strategies:
  uuid_hash: {type: deterministic_hash, salt: s}
rules:
  - table: users
    columns:
      id: {strategy: uuid_hsh}
";
        let e = err(text);
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 6));
        assert_eq!(
            e.message,
            "'rules[0].columns.id.strategy': unknown anonymization strategy 'uuid_hsh'"
        );
        assert_eq!(e.hint.as_deref(), Some("did you mean 'uuid_hash'?"));
        let e = err(&text.replace("{strategy: uuid_hsh}", "emial_mask"));
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 6));
        assert_eq!(e.hint.as_deref(), Some("did you mean 'email_mask'?"));
        let e = err(&text.replace("{strategy: uuid_hsh}", "{type: emial_mask}"));
        assert_eq!(e.hint.as_deref(), Some("did you mean 'email_mask'?"));
        let e = err(&text.replace("{strategy: uuid_hsh}", "zzzzzz"));
        let hint = e.hint.clone().unwrap();
        assert!(hint.starts_with("known strategies: preserve"), "{hint}");
        assert!(hint.ends_with("named strategies: uuid_hash"), "{hint}");
        // A named strategy is not a type.
        let e = err(&text.replace("{strategy: uuid_hsh}", "{type: uuid_hash}"));
        assert!(e
            .message
            .contains("is a named strategy, not a built-in type"));
        assert_eq!(
            e.hint.as_deref(),
            Some("refer to it with strategy: uuid_hash (type: names a built-in strategy)")
        );
        // Inside a conditional too.
        let e = err(&text.replace(
            "{strategy: uuid_hsh}",
            "{type: conditional, when: row.a == 1, then: none, else: {strategy: uuid_hsh}}",
        ));
        assert_eq!(e.code.id, "ANON_001");
        assert_eq!(e.hint.as_deref(), Some("did you mean 'uuid_hash'?"));
        assert!(
            e.message.starts_with("'rules[0].columns.id.else.strategy'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn skip_table() {
        let p = ok("rules:\n  - table: audit.log\n    strategy: skip_table\n");
        let t = p.table("audit", "log").unwrap();
        assert!(t.skip);
        assert_eq!(t.line, 2);
        let e = err("rules:\n  - table: log\n    strategy: skip_tabel\n");
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 3));
        assert_eq!(e.hint.as_deref(), Some("did you mean 'skip_table'?"));
        let e = err("rules:\n  - table: log\n    strategy: redact\n");
        assert!(e.message.contains("can only be skip_table"));
        let e = err(
            "rules:\n  - table: log\n    strategy: skip_table\n    columns:\n      a: redact\n",
        );
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 4));
        let e = err("rules:\n  - table: log\n");
        assert_eq!(e.code.id, "CONFIG_011");
        assert!(e.message.contains("needs columns: or strategy: skip_table"));
        let e = err("rules:\n  - strategy: skip_table\n");
        assert_eq!(
            (e.code.id, e.message.as_str()),
            ("CONFIG_011", "'rules[0].table' is required")
        );
        for bad in ["a.b.c", ".t", "s."] {
            let e = err(&format!(
                "rules:\n  - table: '{bad}'\n    strategy: skip_table\n"
            ));
            assert_eq!(e.code.id, "ANON_001", "{bad}");
        }
    }

    #[test]
    fn duplicates_name_both_lines() {
        let e = err("\
rules:
  - table: users
    columns: {email: email_mask}
  - table: orders
    strategy: skip_table
  - table: public.users
    strategy: skip_table
");
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 6));
        assert_eq!(
            e.message,
            "'rules[2]': table public.users already has a rule (lines 2 and 6)"
        );
        // The same column twice is caught by the YAML reader, naming both lines.
        let e =
            err("rules:\n  - table: users\n    columns:\n      email: redact\n      email: null\n");
        assert_eq!((e.code.id, line(&e)), ("CONFIG_008", 5));
        assert!(
            e.message.contains("first defined on line 4"),
            "{}",
            e.message
        );
    }

    #[test]
    fn algorithm_must_be_sha256() {
        let text =
            "strategies:\n  h:\n    type: deterministic_hash\n    salt: s\n    algorithm: md5\n";
        let e = err(text);
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 5));
        assert_eq!(
            e.message,
            "'strategies.h.algorithm' must be sha256, found 'md5'"
        );
        let e =
            err("rules:\n  - table: t\n    columns:\n      c: {type: redact, algorithm: md5}\n");
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 4));
        let e = err("salt: ''\n");
        assert_eq!(
            (e.code.id, e.message.as_str()),
            ("ANON_001", "'salt' is empty")
        );
    }

    #[test]
    fn unknown_keys_are_suggested() {
        let e = err("rules:\n  - table: t\n    colums:\n      c: redact\n");
        assert_eq!((e.code.id, line(&e)), ("CONFIG_005", 3));
        assert_eq!(e.message, "unknown key 'rules[0].colums'");
        assert_eq!(e.hint.as_deref(), Some("did you mean 'columns'?"));
        let e = err("rule:\n  - table: t\n");
        assert_eq!(e.hint.as_deref(), Some("did you mean 'rules'?"));
        let e = err("rules:\n  - table: t\n    columns:\n      c: {type: redact, wiht: x}\n");
        assert_eq!(e.message, "unknown key 'rules[0].columns.c.wiht'");
        assert_eq!(e.hint.as_deref(), Some("did you mean 'with'?"));
        let e = err("rules:\n  - table: t\n    columns:\n      c: {type: redact, slat: x}\n");
        assert_eq!(e.hint.as_deref(), Some("did you mean 'salt'?"));
        let e = err("rules:\n  - table: t\n    columns:\n      c: {stratgy: redact}\n");
        assert_eq!(e.hint.as_deref(), Some("did you mean 'strategy'?"));
        let e = err("rules:\n  - table: t\n    columns:\n      c: {strategy: redact, with: x}\n");
        assert_eq!((e.code.id, line(&e)), ("CONFIG_005", 4));
        assert!(e
            .hint
            .clone()
            .unwrap()
            .starts_with("a reference ({strategy: name}) takes no options"));
    }

    #[test]
    fn bare_references_locate_their_option_errors() {
        let e = err("rules:\n  - table: t\n    columns:\n      c: pattern_mask\n");
        assert_eq!((e.code.id, line(&e)), ("CONFIG_011", 4));
        assert_eq!(e.message, "'rules[0].columns.c.pattern' is required");
        let e = err("rules:\n  - table: t\n    columns:\n      c: deterministic_hash\n");
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 4));
        assert!(e.message.contains("needs a secret key"), "{}", e.message);
        let e = err("rules:\n  - table: t\n    columns:\n      c:\n");
        assert_eq!((e.code.id, line(&e)), ("CONFIG_006", 4));
    }

    #[test]
    fn strategy_and_type_together_is_an_error() {
        let e = err("rules:\n  - table: t\n    columns:\n      c:\n        strategy: redact\n        type: partial\n");
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 6));
        assert!(e.message.contains("has both 'strategy'"), "{}", e.message);
    }

    #[test]
    fn strict_immutable_and_names() {
        let p = ok("name: staging\nstrict: false\nimmutable: [tenant_id, tenant_id]\nrules:\n  - table: t\n    columns: {tenant_id: {strategy: none}}\n");
        assert_eq!(p.name, "staging");
        assert!(!p.strict);
        assert_eq!(p.immutable, ["tenant_id"]);
        let e = err("immutable: [tenant_id]\nrules:\n  - table: t\n    columns:\n      tenant_id: {type: deterministic_hash, salt: s}\n");
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 5));
        assert!(e.message.contains("is immutable (line 1)"), "{}", e.message);
        let e = err("name: a\nanonymization_profile: b\n");
        assert_eq!(e.code.id, "ANON_001");
        let e = err("strict: maybe\n");
        assert_eq!(e.code.id, "CONFIG_006");
        let e = err("# nothing\n");
        assert_eq!(e.code.id, "CONFIG_009");
    }

    #[test]
    fn reference_cycles_are_refused() {
        let e = err("\
strategies:
  a: {type: conditional, when: row.x == 1, then: none, else: {strategy: b}}
  b: {type: json_path, path: $.k, strategy: a}
");
        assert_eq!(e.code.id, "ANON_001");
        assert!(
            e.message
                .contains("named strategy 'a' refers back to itself"),
            "{}",
            e.message
        );
        assert_eq!(line(&e), 3);
    }

    #[test]
    fn sql_expression_only_as_a_column_strategy() {
        let text = "\
strategies:
  expr: {type: sql_expression, expression: \"'user_' || id\"}
rules:
  - table: t
    columns:
      a: {strategy: expr}
";
        let p = ok(text);
        let a = col(&p, "t", "a");
        assert_eq!(a.strategy.sql_expression(), Some("'user_' || id"));
        assert!(!a.deterministic());
        let e = err(&text.replace(
            "{strategy: expr}",
            "{type: conditional, when: row.x == 1, then: expr, else: none}",
        ));
        assert_eq!((e.code.id, line(&e)), ("ANON_001", 6));
        assert!(e
            .message
            .contains("sql_expression can only be a column's own strategy"));
    }

    #[test]
    fn keys_are_never_printed() {
        let p = ok(RESOLUTION);
        let debug = format!("{p:?}");
        assert!(!debug.contains("profile-secret") && !debug.contains("own-secret"));
        assert!(debug.contains("Key(<redacted>)"));
    }

    #[test]
    fn load_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("masked.yaml");
        std::fs::write(
            &path,
            "rules:\n  - table: t\n    columns: {email: email_mask}\n",
        )
        .unwrap();
        let p = Profile::load(&path, &env).unwrap();
        assert_eq!(
            (p.name.as_str(), p.file.as_path()),
            ("masked", path.as_path())
        );
        let e = Profile::load(&dir.path().join("nope.yaml"), &env).unwrap_err();
        assert_eq!(e.code.id, "CONFIG_001");
    }
}
