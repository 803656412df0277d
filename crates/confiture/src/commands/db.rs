//! `confiture db start|stop|status|url`: the project's embedded cluster.

use serde::Serialize;

use confiture_core::codes;
use confiture_core::config::DEFAULT_ENV;
use confiture_core::error::{ConfitureError, Result};
use confiture_pg::cluster::RunState;
use confiture_pg::project_cluster::ProjectCluster;

use crate::args::{DbCommand, GlobalArgs};
use crate::commands::project;
use crate::output::{Output, Style};

#[derive(Serialize)]
struct StopReport {
    was_running: bool,
    data_dir: std::path::PathBuf,
}

#[derive(Serialize)]
struct UrlReport {
    url: String,
}

pub async fn run(g: &GlobalArgs, cmd: &DbCommand, out: Output) -> Result<i32> {
    let project = project(g);
    let var = |k: &str| std::env::var(k).ok();
    let cluster = ProjectCluster::open(&project.root, &var)?;
    let env = g.env.clone().unwrap_or_else(|| DEFAULT_ENV.to_string());
    match cmd {
        DbCommand::Start => {
            let r = cluster.start(&env).await?;
            out.report(true, &r, || {
                let mut t = String::new();
                if r.created {
                    t.push_str(&format!(
                        "Created a PostgreSQL {} cluster in {}\n",
                        r.version,
                        r.data_dir.display()
                    ));
                }
                if let Some(old) = r.previous_port {
                    t.push_str(&format!(
                        "{} port {old} is in use by another program; using port {}\n",
                        out.paint(Style::Warn, "note:"),
                        r.port
                    ));
                }
                if r.already_running {
                    t.push_str(&format!("Already running on port {}\n", r.port));
                } else {
                    t.push_str(&format!(
                        "{} PostgreSQL {} on port {}\n",
                        out.paint(Style::Ok, "Started"),
                        r.version,
                        r.port
                    ));
                }
                if r.database_created {
                    t.push_str(&format!("Created database {}\n", r.database));
                }
                t.push_str(&format!("URL: {}\n", r.url));
                t
            });
            Ok(0)
        }
        DbCommand::Stop => {
            let was_running = cluster.stop()?;
            let r = StopReport {
                was_running,
                data_dir: cluster.cluster.data_dir(),
            };
            out.report(true, &r, || {
                if was_running {
                    "Stopped the embedded PostgreSQL.".into()
                } else {
                    "The embedded PostgreSQL is not running.".into()
                }
            });
            Ok(0)
        }
        DbCommand::Status => {
            let s = cluster.status();
            out.report(true, &s, || match s.state {
                RunState::Absent => format!(
                    "No embedded cluster yet ({}); `confiture db start` creates it.",
                    s.data_dir.display()
                ),
                RunState::Stopped => format!("Stopped ({}).", s.data_dir.display()),
                RunState::Running => format!(
                    "Running PostgreSQL {} on port {}\nURL: {}",
                    s.version.clone().unwrap_or_default(),
                    s.port.unwrap_or(0),
                    s.url.clone().unwrap_or_default()
                ),
            });
            Ok(0)
        }
        DbCommand::Url => match cluster.url(&env) {
            Some(url) => {
                let r = UrlReport { url };
                out.report(true, &r, || r.url.clone());
                Ok(0)
            }
            None => Err(ConfitureError::new(
                codes::CONN_REFUSED,
                "the embedded PostgreSQL is not running",
            )
            .with_hint("start it with `confiture db start`")),
        },
    }
}
