//! Progress on stderr: one spinner per task (host) on a terminal, plain timestamped lines
//! otherwise (or with `--color never`/`NO_COLOR`), nothing with `--quiet`. Tasks only call
//! `update`/`finish`; they never touch the bars themselves.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Progress {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<String, ProgressBar>>,
    start: Instant,
    quiet: bool,
}

impl Progress {
    /// Spinners when stderr is a terminal (and colours and graphics are not off), plain lines
    /// otherwise; nothing with `--quiet`.
    pub fn new() -> Self {
        Progress {
            multi: crate::ui::output::spinners().then(MultiProgress::new),
            bars: Mutex::new(HashMap::new()),
            start: Instant::now(),
            quiet: crate::ui::output::current().quiet,
        }
    }

    /// Says nothing at all (for machine output on a terminal).
    pub fn quiet() -> Self {
        Progress {
            quiet: true,
            ..Progress::new()
        }
    }

    fn bar(&self, key: &str) -> Option<ProgressBar> {
        let multi = self.multi.as_ref()?;
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        Some(
            bars.entry(key.to_string())
                .or_insert_with(|| {
                    let b = multi.add(ProgressBar::new_spinner());
                    b.set_style(
                        ProgressStyle::with_template(
                            "{spinner} {prefix:<12} {wide_msg} {elapsed:>4}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    b.set_prefix(key.to_string());
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                })
                .clone(),
        )
    }

    pub fn update(&self, key: &str, message: &str) {
        if self.quiet {
            return;
        }
        match self.bar(key) {
            Some(b) => b.set_message(message.to_string()),
            None => eprintln!(
                "[{:>6.1}s] {key}: {message}",
                self.start.elapsed().as_secs_f64()
            ),
        }
    }

    pub fn finish(&self, key: &str, message: &str) {
        if self.quiet {
            return;
        }
        match self.bar(key) {
            Some(b) => {
                b.set_style(
                    ProgressStyle::with_template("  {prefix:<12} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b.finish_with_message(message.to_string());
            }
            None => eprintln!(
                "[{:>6.1}s] {key}: {message}",
                self.start.elapsed().as_secs_f64()
            ),
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
