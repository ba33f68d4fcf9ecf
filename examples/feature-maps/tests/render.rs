//! The rendered grids have the lecture's shapes, and the maps differ from filter to filter.

use burn::tensor::Device;
use infer::Predictor;
use model::{IMAGE_PIXELS, IMAGE_SIZE, Pixels};

/// A "7" drawn in code: a top bar and a diagonal.
fn seven() -> Pixels {
    let mut d = [0u8; IMAGE_PIXELS];
    for x in 8..21 {
        d[6 * IMAGE_SIZE + x] = 255;
        d[7 * IMAGE_SIZE + x] = 255;
    }
    for y in 8..23 {
        let x = 20 - (y - 8) / 2;
        d[y * IMAGE_SIZE + x] = 255;
        d[y * IMAGE_SIZE + x - 1] = 255;
    }
    d
}

#[test]
fn grids_have_the_lecture_shapes_and_distinct_maps() {
    let predictor = Predictor::shipped(&Device::flex()).unwrap();
    let r = feature_maps::render(predictor.net(), &seven());
    // 8 columns; filters 3x3 at 16x: 8*(48+1)+1 = 393 wide, 4 rows.
    assert_eq!(r.filters.dimensions(), (393, 197));
    // conv1: 32 maps of 26x26 at 4x, 8x4 grid: 8*(104+1)+1 = 841, 4*(104+1)+1 = 421.
    assert_eq!(r.conv1.dimensions(), (841, 421));
    // conv2: 64 maps of 11x11 at 8x, 8x8 grid: 8*(88+1)+1 = 713.
    assert_eq!(r.conv2.dimensions(), (713, 713));

    // Tiles of different filters differ: compare the first conv1 tile with every other one.
    let tile = |img: &image::GrayImage, i: u32, side: u32| -> Vec<u8> {
        let (x0, y0) = ((i % 8) * (side + 1) + 1, (i / 8) * (side + 1) + 1);
        (0..side)
            .flat_map(|y| (0..side).map(move |x| (x, y)))
            .map(|(x, y)| img.get_pixel(x0 + x, y0 + y).0[0])
            .collect()
    };
    let first = tile(&r.conv1, 0, 104);
    let distinct = (1..32).filter(|&i| tile(&r.conv1, i, 104) != first).count();
    assert!(
        distinct >= 28,
        "only {distinct} of 31 maps differ from the first"
    );
    let conv2_first = tile(&r.conv2, 0, 88);
    assert!(
        (1..64)
            .filter(|&i| tile(&r.conv2, i, 88) != conv2_first)
            .count()
            >= 50
    );

    // Deterministic: rendering twice gives the same pixels.
    let again = feature_maps::render(predictor.net(), &seven());
    assert_eq!(again.conv2.as_raw(), r.conv2.as_raw());
}
