//! Deterministic products CSV files, the input of the import benchmark.
//!
//! The header is `sku,name,description,price,category,stock`, the columns
//! `product-importer` reads. The same row count always gives the same bytes: the values
//! come from a SplitMix64 stream with a fixed seed, written here so that no crate update
//! can change it. The first rows of a larger file are the rows of a smaller one.
//!
//! SKUs are a bijection of the row index, so they are unique and arrive in an order that
//! looks random, as the keys of a real catalogue import reach the key index.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use anyhow::Context;

pub const HEADER: &str = "sku,name,description,price,category,stock";

/// The shortest and longest description, in bytes (descriptions are ASCII).
pub const DESCRIPTION_LEN: std::ops::RangeInclusive<usize> = 60..=100;

const SEED: u64 = 0x1D6E_57BE_7C40_0001;

/// Added to the row index before mixing, so that row 0 does not get the SKU of all zeros.
const SKU_OFFSET: u64 = 0x5EED;

const CATEGORIES: [&str; 8] = ["books", "electronics", "garden", "grocery", "home", "outdoor", "sports", "toys"];

const ADJECTIVES: [&str; 12] = [
    "Compact", "Classic", "Deluxe", "Foldable", "Heavy", "Light", "Modern", "Portable", "Rustic", "Smart", "Sturdy",
    "Wireless",
];

const NOUNS: [&str; 12] = [
    "Backpack", "Blender", "Chair", "Drill", "Kettle", "Lamp", "Mug", "Notebook", "Speaker", "Tent", "Timer", "Toaster",
];

const WORDS: [&str; 24] = [
    "a", "and", "built", "daily", "design", "easy", "finish", "for", "from", "frame", "grip", "handle", "long", "made",
    "matte", "quiet", "recycled", "soft", "steel", "the", "to", "travel", "use", "with",
];

/// Sums over a generated file's values, which a table holding exactly its rows
/// reproduces: `SELECT count(*), sum(round(price * 100)), sum(stock),
/// sum(length(description))`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fingerprint {
    pub rows: u64,
    pub price_cents: u64,
    pub stock: u64,
    pub description_chars: u64,
}

/// The SplitMix64 generator (Steele, Lea and Flood, 2014), as `java.util.SplittableRandom`
/// and most xoshiro seeding code implement it.
struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// Returns a number below `bound`. The modulo bias is below 2^-50 for the small bounds
    /// used here, and determinism is what matters.
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Mixes `value` with the SplitMix64 output function. Each step (xor with a right shift, multiplication by
/// an odd constant) is invertible on u64, so the whole function is a bijection.
fn mix64(value: u64) -> u64 {
    let mut z = value;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Returns the SKU of row `index`: distinct rows get distinct SKUs because [`mix64`], the
/// addition of a constant and the multiplication by an odd constant are bijections.
pub fn sku(index: u64) -> String {
    format!("SKU-{:016X}", mix64(index.wrapping_add(SKU_OFFSET).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// One generated row, unescaped.
struct Product {
    sku: String,
    name: String,
    description: String,
    price_cents: u64,
    category: &'static str,
    stock: u64,
}

fn product(index: u64, random: &mut SplitMix64) -> Product {
    let name = format!("{} {} {}", random.pick(&ADJECTIVES), random.pick(&NOUNS), 100 + random.below(900));
    let length = *DESCRIPTION_LEN.start() + random.below(DESCRIPTION_LEN.count() as u64) as usize;
    let description = description(length, random);
    // Mostly prices below 1,000.00, a few of exactly 0.00.
    let price_cents = if random.below(50) == 0 { 0 } else { random.below(100_000) };
    let category = CATEGORIES[random.below(CATEGORIES.len() as u64) as usize];
    let stock = random.below(5_001);
    Product { sku: sku(index), name, description, price_cents, category, stock }
}

/// Builds a description of exactly `length` ASCII characters. 15% start with a word in
/// double quotes followed by a comma, 25% with a list of three words separated by commas
/// (5% with both), so the file needs CSV quoting and escaped quotes.
fn description(length: usize, random: &mut SplitMix64) -> String {
    let mut text = String::with_capacity(length + 16);
    let kind = random.below(100);
    if kind < 15 {
        text.push_str(&format!("\"{}\" edition, ", random.pick(&ADJECTIVES)));
    }
    if (10..35).contains(&kind) {
        text.push_str(&format!("{}, {} and {}: ", random.pick(&WORDS), random.pick(&WORDS), random.pick(&WORDS)));
    }
    while text.len() < length {
        text.push_str(random.pick(&WORDS));
        text.push(' ');
    }
    text.truncate(length);
    if text.ends_with(' ') {
        text.pop();
        text.push('.');
    }
    text
}

/// Writes `value` as one CSV field: quoted, with quotes doubled, when it contains a
/// comma, a quote or a line break (RFC 4180), as it is otherwise.
fn write_field(out: &mut impl Write, value: &str) -> io::Result<()> {
    if value.contains([',', '"', '\n', '\r']) {
        out.write_all(b"\"")?;
        out.write_all(value.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(value.as_bytes())
    }
}

/// Writes the header and `rows` products to `out` and returns their fingerprint.
pub fn write_products(rows: u64, out: &mut impl Write) -> io::Result<Fingerprint> {
    let mut random = SplitMix64::new(SEED);
    let mut fingerprint = Fingerprint::default();
    writeln!(out, "{HEADER}")?;
    for index in 0..rows {
        let product = product(index, &mut random);
        write_field(out, &product.sku)?;
        out.write_all(b",")?;
        write_field(out, &product.name)?;
        out.write_all(b",")?;
        write_field(out, &product.description)?;
        writeln!(
            out,
            ",{}.{:02},{},{}",
            product.price_cents / 100,
            product.price_cents % 100,
            product.category,
            product.stock
        )?;

        fingerprint.rows += 1;
        fingerprint.price_cents += product.price_cents;
        fingerprint.stock += product.stock;
        fingerprint.description_chars += product.description.len() as u64;
    }
    Ok(fingerprint)
}

/// A writer that only counts the bytes written to it.
#[derive(Default)]
struct ByteCounter {
    bytes: u64,
}

impl Write for ByteCounter {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.bytes += buffer.len() as u64;
        Ok(buffer.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Returns the size in bytes and the fingerprint of the file of `rows` products,
/// without writing it.
pub fn measure_products(rows: u64) -> (u64, Fingerprint) {
    let mut counter = ByteCounter::default();
    let fingerprint = write_products(rows, &mut counter).expect("counting bytes cannot fail");
    (counter.bytes, fingerprint)
}

/// Writes the file of `rows` products to `path`, through a temporary file in the same
/// directory that is renamed into place, so an interrupted run leaves no partial file.
pub fn write_products_file(rows: u64, path: &Path) -> anyhow::Result<Fingerprint> {
    let mut staged = path.as_os_str().to_owned();
    staged.push(".partial");
    let staged = std::path::PathBuf::from(staged);
    let file = File::create(&staged).with_context(|| format!("cannot create {}", staged.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let fingerprint = write_products(rows, &mut out).with_context(|| format!("cannot write {}", staged.display()))?;
    out.into_inner()
        .map_err(|error| error.into_error())
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot write {}", staged.display()))?;
    std::fs::rename(&staged, path)
        .with_context(|| format!("cannot rename {} to {}", staged.display(), path.display()))?;
    Ok(fingerprint)
}

/// Returns the products file of `rows` rows in `cache_dir` (`products-<rows>.csv`) and
/// its fingerprint. A file already there is reused when its size is the expected one,
/// and written again otherwise.
pub fn cached_products_file(cache_dir: &Path, rows: u64) -> anyhow::Result<(std::path::PathBuf, Fingerprint)> {
    std::fs::create_dir_all(cache_dir).with_context(|| format!("cannot create {}", cache_dir.display()))?;
    let path = cache_dir.join(format!("products-{rows}.csv"));
    let (expected_len, fingerprint) = measure_products(rows);
    match std::fs::metadata(&path) {
        Ok(metadata) if metadata.len() == expected_len => return Ok((path, fingerprint)),
        Ok(metadata) => {
            println!("{} has {} bytes, expected {expected_len}; writing it again", path.display(), metadata.len())
        }
        Err(_) => println!("writing {} ({rows} rows, {:.1} MB)", path.display(), expected_len as f64 / 1e6),
    }
    write_products_file(rows, &path)?;
    Ok((path, fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(rows: u64) -> (Vec<u8>, Fingerprint) {
        let mut bytes = Vec::new();
        let fingerprint = write_products(rows, &mut bytes).unwrap();
        (bytes, fingerprint)
    }

    fn read_records(bytes: &[u8]) -> (csv::StringRecord, Vec<csv::StringRecord>) {
        let mut reader = csv::Reader::from_reader(bytes);
        let header = reader.headers().unwrap().clone();
        let records = reader.records().map(|record| record.unwrap()).collect();
        (header, records)
    }

    #[test]
    fn same_rows_give_same_bytes() {
        let (first, _) = generate(2_000);
        let (second, _) = generate(2_000);

        assert_eq!(first, second);
    }

    #[test]
    fn smaller_file_is_prefix_of_larger() {
        let (small, _) = generate(500);
        let (large, _) = generate(1_000);

        assert!(large.starts_with(&small));
    }

    #[test]
    fn stream_is_pinned() {
        // The first values of SplitMix64 seeded with 0, as published with the algorithm,
        // and this generator's first row: a change to either changes every file.
        let mut random = SplitMix64::new(0);
        assert_eq!(random.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(random.next_u64(), 0x6E78_9E6A_A1B9_65F4);

        let (bytes, _) = generate(1);
        let text = String::from_utf8(bytes).unwrap();
        let first_row = text.lines().nth(1).unwrap();
        assert!(first_row.starts_with(&format!("{},", sku(0))), "{first_row}");
    }

    #[test]
    fn csv_round_trips_every_field() {
        let rows = 5_000;
        let mut random = SplitMix64::new(SEED);
        let expected: Vec<Product> = (0..rows).map(|index| product(index, &mut random)).collect();

        let (bytes, _) = generate(rows);
        let (header, records) = read_records(&bytes);

        assert_eq!(header.iter().collect::<Vec<_>>().join(","), HEADER);
        assert_eq!(records.len(), expected.len());
        for (record, product) in records.iter().zip(&expected) {
            assert_eq!(record.len(), 6, "{record:?}");
            assert_eq!(&record[0], product.sku);
            assert_eq!(&record[1], product.name);
            assert_eq!(&record[2], product.description);
            assert_eq!(&record[4], product.category);
        }
    }

    #[test]
    fn descriptions_include_commas_and_quotes() {
        let (bytes, _) = generate(5_000);
        let (_, records) = read_records(&bytes);

        let with_comma = records.iter().filter(|record| record[2].contains(',')).count();
        let with_quote = records.iter().filter(|record| record[2].contains('"')).count();
        let text = String::from_utf8(bytes).unwrap();

        assert!(with_comma > 500, "{with_comma} descriptions with a comma");
        assert!(with_quote > 500, "{with_quote} descriptions with a quote");
        assert!(text.contains("\"\""), "no doubled quote in the file");
    }

    #[test]
    fn descriptions_stay_within_bounds() {
        let (bytes, _) = generate(20_000);
        let (_, records) = read_records(&bytes);

        let lengths: Vec<usize> = records.iter().map(|record| record[2].len()).collect();

        assert!(lengths.iter().all(|length| DESCRIPTION_LEN.contains(length)));
        assert_eq!(lengths.iter().min(), Some(DESCRIPTION_LEN.start()));
        assert_eq!(lengths.iter().max(), Some(DESCRIPTION_LEN.end()));
        assert!(records.iter().all(|record| record[2].is_ascii()));
    }

    #[test]
    fn skus_are_unique_and_unsorted() {
        let (bytes, _) = generate(50_000);
        let (_, records) = read_records(&bytes);
        let skus: Vec<&str> = records.iter().map(|record| record.get(0).unwrap()).collect();

        let mut sorted = skus.clone();
        sorted.sort_unstable();
        sorted.dedup();

        assert_eq!(sorted.len(), skus.len());
        assert_ne!(sorted, skus);
    }

    #[test]
    fn numbers_have_expected_form() {
        let (bytes, _) = generate(5_000);
        let (_, records) = read_records(&bytes);

        for record in &records {
            let (units, cents) = record[3].split_once('.').unwrap();
            assert!(units.parse::<u64>().is_ok(), "price {}", &record[3]);
            assert_eq!(cents.len(), 2, "price {}", &record[3]);
            assert!(record[5].parse::<u64>().is_ok(), "stock {}", &record[5]);
            assert!(CATEGORIES.contains(&&record[4]));
        }
    }

    #[test]
    fn fingerprint_matches_parsed_file() {
        let (bytes, fingerprint) = generate(3_000);
        let (_, records) = read_records(&bytes);

        let price_cents: u64 = records.iter().map(|record| record[3].replace('.', "").parse::<u64>().unwrap()).sum();
        let stock: u64 = records.iter().map(|record| record[5].parse::<u64>().unwrap()).sum();
        let description_chars: u64 = records.iter().map(|record| record[2].len() as u64).sum();

        assert_eq!(fingerprint.rows, 3_000);
        assert_eq!(fingerprint.price_cents, price_cents);
        assert_eq!(fingerprint.stock, stock);
        assert_eq!(fingerprint.description_chars, description_chars);
    }

    #[test]
    fn measured_size_matches_written_file() {
        let (bytes, fingerprint) = generate(1_000);

        assert_eq!(measure_products(1_000), (bytes.len() as u64, fingerprint));
    }
}
