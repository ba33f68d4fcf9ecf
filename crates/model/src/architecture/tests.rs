//! The stage description against the lecture's numbers and against other configurations.

use super::*;
use crate::{Activation, Pooling};

fn stage<'a>(info: &'a ModelInfo, name: &str) -> &'a StageInfo {
    info.stages.iter().find(|s| s.name == name).unwrap()
}

#[test]
fn the_lectures_network_has_the_lectures_numbers() {
    let info = ModelInfo::of(&MnistCnnConfig::new());
    let names: Vec<&str> = info.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, STAGE_NAMES);
    let expected: [(&str, &[usize], &str, &str); 7] = [
        ("input", &[28, 28, 1], "28x28 gray levels, 1 channel", ""),
        (
            "conv1",
            &[26, 26, 32],
            "floor((28-3)/1)+1 = 26",
            "32*(3*3*1+1) = 320",
        ),
        ("pool1", &[13, 13, 32], "floor((26-2)/2)+1 = 13", ""),
        (
            "conv2",
            &[11, 11, 64],
            "floor((13-3)/1)+1 = 11",
            "64*(3*3*32+1) = 18,496",
        ),
        ("pool2", &[5, 5, 64], "floor((11-2)/2)+1 = 5", ""),
        (
            "hidden",
            &[512],
            "flatten 5*5*64 = 1600 -> 512 units",
            "512*(1600+1) = 819,712",
        ),
        (
            "outputs",
            &[10],
            "512 -> 10 scores -> softmax",
            "10*(512+1) = 5,130",
        ),
    ];
    for (name, shape, formula, params) in expected {
        let s = stage(&info, name);
        assert_eq!((s.shape.as_slice(), s.formula.as_str()), (shape, formula));
        assert_eq!(s.params_formula, params, "{name}");
    }
    assert_eq!(info.total_params, 843_658);
}

/// Other sizes: the numbers follow the configuration, and every layer's parameters (as its
/// formula writes them) add up to the summary's total.
#[test]
fn another_network_shows_its_own_numbers() {
    let config = MnistCnnConfig::new()
        .with_padding(Padding::Same)
        .with_kernel_size(5)
        .with_conv1_filters(8)
        .with_conv2_filters(16)
        .with_hidden_units(100)
        .with_pooling(Pooling::Avg)
        .with_activation(Activation::LeakyRelu { slope: 0.1 });
    let info = ModelInfo::of(&config);
    assert_eq!(stage(&info, "conv1").shape, [28, 28, 8]);
    assert_eq!(stage(&info, "conv1").formula, "floor((28+2*2-5)/1)+1 = 28");
    assert_eq!(stage(&info, "pool1").formula, "floor((28-2)/2)+1 = 14");
    assert_eq!(stage(&info, "conv2").shape, [14, 14, 16]);
    assert_eq!(stage(&info, "pool2").shape, [7, 7, 16]);
    assert_eq!(
        stage(&info, "hidden").formula,
        "flatten 7*7*16 = 784 -> 100 units"
    );
    assert!(stage(&info, "pool1").layer.starts_with("avg-pool"));
    assert!(stage(&info, "conv2").layer.ends_with("leaky-relu(0.1)"));
    let total: usize = info.stages.iter().map(|s| s.params).sum();
    assert_eq!(total, info.total_params);
    assert_eq!(total, config.summary().total_params());
    for s in &info.stages {
        let Some((expr, result)) = s.params_formula.split_once(" = ") else {
            assert_eq!(s.params, 0, "{}", s.name);
            continue;
        };
        assert_eq!(result.replace(',', ""), s.params.to_string(), "{}", s.name);
        assert_eq!(evaluate(expr), s.params, "{}: {expr}", s.name);
    }
}

/// `a*(b*c*d+e)` and `a*(b+c)`: the two forms the parameter formulas take.
fn evaluate(expr: &str) -> usize {
    let (factor, sum) = expr.split_once("*(").unwrap();
    let sum: usize = sum
        .trim_end_matches(')')
        .split('+')
        .map(|term| {
            term.split('*')
                .map(|f| f.parse::<usize>().unwrap())
                .product::<usize>()
        })
        .sum();
    factor.parse::<usize>().unwrap() * sum
}
