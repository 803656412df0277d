//! Progress bars of `confiture sync` (one per table being copied), drawn on stderr.

use std::collections::HashMap;
use std::sync::Mutex;

use confiture_ops::sync::progress::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, (ProgressBar, u64)>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Progress for Bars {
    fn table_started(&self, table: &str, _estimated_rows: i64, bytes: i64) {
        let bar = self.multi.add(ProgressBar::new(bytes.max(1) as u64));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:30} {bar:25} {binary_bytes:>10} {binary_bytes_per_sec:>12} {msg}",
            )
            .expect("a valid template"),
        );
        bar.set_prefix(table.to_string());
        self.bars
            .lock()
            .expect("not poisoned")
            .insert(table.to_string(), (bar, 0));
    }

    fn advance(&self, table: &str, rows: Option<u64>, bytes: u64) {
        let mut bars = self.bars.lock().expect("not poisoned");
        if let Some((bar, counted)) = bars.get_mut(table) {
            if bar.position() + bytes > bar.length().unwrap_or(0) {
                bar.set_length(bar.position() + bytes);
            }
            bar.inc(bytes);
            if let Some(r) = rows {
                *counted += r;
                let secs = bar.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!(
                    "{} rows ({:.0} rows/s)",
                    *counted,
                    *counted as f64 / secs
                ));
            }
        }
    }

    fn table_finished(&self, table: &str, rows: u64) {
        if let Some((bar, _)) = self.bars.lock().expect("not poisoned").remove(table) {
            let secs = bar.elapsed().as_secs_f64().max(0.001);
            bar.finish_with_message(format!("{rows} rows ({:.0} rows/s)", rows as f64 / secs));
        }
    }
}
