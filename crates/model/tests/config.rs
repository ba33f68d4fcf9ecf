//! Saved configurations are checked before anything is allocated: the class count, the upper
//! bounds of every size, and the shapes.
#![allow(clippy::unwrap_used)]

use model::{InvalidConfig, MnistCnnConfig, Padding};

/// `config` as JSON with `extra` (e.g. `"num_classes":5,`) inserted first.
fn json_with(config: &MnistCnnConfig, extra: &str) -> String {
    let json = serde_json::to_string(config).unwrap();
    json.replacen('{', &format!("{{{extra}"), 1)
}

fn read(json: &str) -> Result<MnistCnnConfig, InvalidConfig> {
    let mut de = serde_json::Deserializer::from_str(json);
    let checked = MnistCnnConfig::deserialize_saved(&mut de).expect("well-formed JSON");
    de.end().unwrap();
    checked
}

#[test]
fn a_class_count_other_than_ten_is_refused() {
    for n in [5, 12, 0, 1_000_000] {
        let err = read(&json_with(
            &MnistCnnConfig::new(),
            &format!("\"num_classes\":{n},"),
        ))
        .unwrap_err();
        assert!(err.0.contains(&format!("num_classes is {n}")), "{err}");
    }
}

#[test]
fn ten_classes_or_none_stated_still_load() {
    let config = MnistCnnConfig::new();
    assert_eq!(
        read(&json_with(&config, "\"num_classes\":10,")).unwrap(),
        config
    );
    assert_eq!(read(&json_with(&config, "")).unwrap(), config);
}

#[test]
fn huge_sizes_are_refused_before_anything_is_built() {
    let huge = [
        MnistCnnConfig::new().with_hidden_units(1 << 40),
        MnistCnnConfig::new().with_hidden_units(MnistCnnConfig::MAX_HIDDEN_UNITS + 1),
        MnistCnnConfig::new().with_conv1_filters(MnistCnnConfig::MAX_FILTERS + 1),
        MnistCnnConfig::new().with_conv2_filters(usize::MAX),
        // 'same' padding keeps the kernel from shrinking the image: the size came from train.
        MnistCnnConfig::new()
            .with_kernel_size(1_000_001)
            .with_padding(Padding::Same),
        MnistCnnConfig::new().with_kernel_size(29),
        // Each size within its bound, the product not: 1024 filters, 'same' padding, 16k units
        // give 822 M parameters in fc1.
        MnistCnnConfig::new()
            .with_conv2_filters(MnistCnnConfig::MAX_FILTERS)
            .with_hidden_units(MnistCnnConfig::MAX_HIDDEN_UNITS)
            .with_padding(Padding::Same),
    ];
    for config in huge {
        let err = config.check_sizes().unwrap_err();
        assert!(
            err.0.contains("more than") || err.0.contains("larger than"),
            "{err}"
        );
        // The same through a saved file; the outer Ok: the JSON itself is fine.
        assert!(read(&json_with(&config, "")).is_err(), "{config:?}");
    }
}

#[test]
fn a_kernel_larger_than_the_image_is_an_error_in_both_paddings() {
    for padding in [Padding::Valid, Padding::Same] {
        let config = MnistCnnConfig::new()
            .with_kernel_size(31)
            .with_padding(padding);
        let err = config.check_sizes().unwrap_err();
        assert!(err.0.contains("larger than the 28x28 image"), "{err}");
    }
}

#[test]
fn the_bounds_leave_room_for_every_sensible_network() {
    let fine = [
        MnistCnnConfig::new(),
        MnistCnnConfig::new()
            .with_padding(Padding::Same)
            .with_hidden_units(4096),
        MnistCnnConfig::new()
            .with_conv1_filters(256)
            .with_conv2_filters(512)
            .with_hidden_units(2048),
        MnistCnnConfig::new().with_kernel_size(5),
    ];
    for config in fine {
        config.check_sizes().unwrap();
        assert_eq!(read(&json_with(&config, "")).unwrap(), config);
    }
}

#[test]
fn shape_errors_still_come_from_validate() {
    // Within the bounds, but a 13x13 kernel leaves 16x16 -> 8x8, too small for conv2.
    let config = MnistCnnConfig::new().with_kernel_size(13);
    config.check_sizes().unwrap();
    let err = read(&json_with(&config, "")).unwrap_err();
    assert!(err.0.contains("does not fit"), "{err}");
}
