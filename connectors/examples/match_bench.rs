//! How long importing and matching take at the scale of a province:
//! 50,000 synthetic people and one app's 50,000 accounts (70 % with the
//! official e-mail, 10 % with it written differently, 10 % with only a
//! phone in another form, 8 % with only name and unit, 2 % of people no longer in the
//! directory: former staff whose accounts the app still lists as active),
//! written as a CSV export, read through `Source` and matched by `suggest`.
//!
//! `cargo run --release -p connectors --example match_bench [N]`

use std::fmt::Write as _;
use std::time::Instant;

use connectors::{AppConnector, Format, Location, Person, Source, SourceSettings, suggest};

const FAMILY: [&str; 14] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô",
];
const MIDDLE: [&str; 10] = [
    "Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Đức", "Thu", "Quốc", "Hoàng",
];
const GIVEN: [&str; 24] = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
    "Lan", "Linh", "Lộc", "Nam", "Nga", "Phong", "Quân", "Sơn", "Tâm", "Thảo", "Tuấn", "Yến",
];

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args().nth(1).map_or(Ok(50_000), |a| a.parse())?;
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let units: Vec<String> = (1..=60).map(|i| format!("Phòng {i} Sở Nội vụ")).collect();
    let people: Vec<Person> = (0..n)
        .map(|i| Person {
            email: format!("cb{i:05}@binhphuoc.gov.vn"),
            name: format!(
                "{} {} {}",
                rng.pick(&FAMILY),
                rng.pick(&MIDDLE),
                rng.pick(&GIVEN)
            ),
            phone: Some(format!("09{:08}", (i as u64 * 7_919) % 100_000_000)),
            unit: Some(units[i % units.len()].clone()),
        })
        .collect();

    let mut csv = String::from("username,display_name,email,phone,unit\r\n");
    for (i, p) in people.iter().enumerate() {
        let phone = p.phone.as_deref().unwrap_or_default();
        let unit = p.unit.as_deref().unwrap_or_default();
        let (email, phone, name) = match rng.next() % 100 {
            0..70 => (p.email.clone(), String::new(), p.name.clone()),
            70..80 => (
                format!(" {}", p.email.to_uppercase()),
                String::new(),
                p.name.clone(),
            ),
            80..90 => (
                String::new(),
                format!("+84 {} {} {}", &phone[1..4], &phone[4..7], &phone[7..]),
                p.name.clone(),
            ),
            90..98 => (String::new(), String::new(), p.name.to_uppercase()),
            _ => (
                format!("nghi{i}@yahoo.com"),
                String::new(),
                format!("Người {i}"),
            ),
        };
        writeln!(csv, "tk{i:05},{name},{email},{phone},{unit}\r")?;
    }
    let file = std::env::temp_dir().join(format!("match_bench_{}.csv", std::process::id()));
    std::fs::write(&file, &csv)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let source = Source {
        format: Format::Csv,
        location: Location::File(file.clone()),
        settings: SourceSettings::default(),
    };
    let started = Instant::now();
    let accounts = runtime.block_on(source.list_accounts(&|_| {}))?;
    let import = started.elapsed();
    std::fs::remove_file(&file)?;

    let started = Instant::now();
    let _ = suggest(&people, &[]);
    let index = started.elapsed();
    let started = Instant::now();
    let suggestions = suggest(&people, &accounts);
    let matching = started.elapsed();

    let exact = suggestions.iter().filter(|s| s.is_exact()).count();
    println!(
        "{} people, {} accounts ({:.1} MiB CSV): read in {:.0} ms, matched in {:.0} ms \
         (of which indexing the people {:.0} ms; {} suggestions, {exact} exact)",
        people.len(),
        accounts.len(),
        csv.len() as f64 / (1024.0 * 1024.0),
        import.as_secs_f64() * 1000.0,
        matching.as_secs_f64() * 1000.0,
        index.as_secs_f64() * 1000.0,
        suggestions.len(),
    );
    Ok(())
}
