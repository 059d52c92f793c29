//! Times the review queue's pages (`admin::links::queue`) on a database that
//! already holds pending suggestions: the first page with no filter, by app,
//! exact matches only, by the person's unit, and a page deep in the queue.
//! Run by `tests/bench/link_import.sh` after it filled the queue.
//!
//! `cargo run --release -p idp --example link_queue -- sqlite://…/idp.db APP UNIT`

use std::time::{Duration, Instant};

use idp::admin::links;
use idp::kinds::LinkMethod;
use idp::store::{QueueFilter, QueueKey, Store};

const RUNS: usize = 30;
const PAGE: i64 = 50;

async fn time(
    store: &Store,
    f: &QueueFilter,
    after: Option<&QueueKey>,
) -> Result<(Duration, Duration, usize), Box<dyn std::error::Error>> {
    let mut all = Vec::with_capacity(RUNS);
    let mut rows = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        rows = links::queue(store, f, after, PAGE).await?.len();
        all.push(start.elapsed());
    }
    all.sort();
    Ok((all[RUNS / 2], all[RUNS - 1], rows))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(app), Some(unit)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: link_queue DATABASE_URL APP UNIT".into());
    };
    let store = Store::connect(&url).await?;
    let pending = store.coverage_counts().await?;
    let total: i64 = pending.iter().map(|c| c.pending).sum();
    let by_app = QueueFilter {
        app: Some(app.clone()),
        ..QueueFilter::default()
    };
    // A key half way: the page a reviewer reaches after many pages.
    let mut after = None;
    for _ in 0..(total / PAGE / 2).min(400) {
        let page = links::queue(&store, &by_app, after.as_ref(), PAGE).await?;
        match page.last() {
            Some(r) => after = Some(r.key()),
            None => break,
        }
    }
    let cases = [
        ("first page, no filter", QueueFilter::default(), None),
        ("first page of one app", by_app.clone(), None),
        (
            "first page, name matches of one app",
            QueueFilter {
                reason: Some(LinkMethod::Name),
                ..by_app.clone()
            },
            None,
        ),
        (
            "first page, exact matches only",
            QueueFilter {
                exact_only: true,
                ..QueueFilter::default()
            },
            None,
        ),
        (
            "first page, people of one unit",
            QueueFilter {
                unit: Some(unit),
                ..QueueFilter::default()
            },
            None,
        ),
        ("a page half way through one app", by_app, after),
    ];
    println!("| queue page ({PAGE} rows; {total} pending) | median | slowest of {RUNS} | rows |");
    println!("|---|---|---|---|");
    for (what, f, after) in cases {
        let (median, max, rows) = time(&store, &f, after.as_ref()).await?;
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {rows} |",
            median.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0
        );
    }
    store.close().await;
    Ok(())
}
