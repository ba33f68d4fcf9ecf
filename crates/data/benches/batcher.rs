//! Batches per second of [`MnistBatcher`] at batch 64 on the flex device (synthetic digits:
//! the cost does not depend on the pixel values). Run with `cargo bench -p data`.

use std::time::Instant;

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::Device;
use data::MnistBatcher;

fn main() {
    let n = 6_400;
    let set = data::synthetic::digits(n, 1);
    let items: Vec<_> = (0..n).map(|i| set.item(i)).collect();
    let device = Device::flex();
    let mut rates = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut batches = 0;
        for chunk in items.chunks(64) {
            let batch = MnistBatcher.batch(chunk.to_vec(), &device);
            std::hint::black_box(batch);
            batches += 1;
        }
        rates.push(batches as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "MnistBatcher, batch 64, flex: median {:.0} batches/s ({:.0} img/s), min {:.0}, max {:.0}",
        rates[2],
        rates[2] * 64.0,
        rates[0],
        rates[4]
    );
}
