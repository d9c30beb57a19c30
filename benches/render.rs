//! Render benchmark: read + check + render the reference design, in-process, many times.
//! Prints figures; asserts nothing about time. Run with `cargo bench --bench render`.

use foobar_infra::render::{self, Secrets};
use foobar_infra::topology;
use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for example in ["examples/foobar.yaml", "examples/minimal.yaml"] {
        let path = root.join(example);
        let once = || {
            let source = topology::read(&path).unwrap();
            let loaded = topology::load(source, &|_| Some("bench".into()));
            let t = loaded.topology.as_ref().unwrap();
            let tera = render::templates::load(None).unwrap();
            let desired = render::render(t, &loaded.source, &tera, &Secrets::redacted()).unwrap();
            std::hint::black_box(desired);
        };
        once();
        let mut times: Vec<Duration> = (0..200)
            .map(|_| {
                let start = Instant::now();
                once();
                start.elapsed()
            })
            .collect();
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "render {example}: median {:.2} ms, p95 {:.2} ms, max {:.2} ms over {} runs (read + check + templates + render)",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 95 / 100]),
            ms(times[times.len() - 1]),
            times.len()
        );
    }
}
