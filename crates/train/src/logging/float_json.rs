//! JSON for floats that may not be finite. JSON has no NaN or infinity and serde_json writes
//! them as `null`, which then cannot be read back into an `f64`: a diverged epoch would make its
//! run's history unreadable and the run impossible to resume. Fields using
//! `#[serde(with = "crate::logging::float_json")]` write finite values as plain numbers and the others as
//! the strings `"NaN"`, `"inf"` and `"-inf"`; reading accepts those, numbers, and `null` (as NaN,
//! for files written before this scheme).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A float as it appears in the JSON.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Number(f64),
    Text(String),
    Null(()),
}

fn to_repr(value: f64) -> Repr {
    if value.is_finite() {
        Repr::Number(value)
    } else if value.is_nan() {
        Repr::Text("NaN".into())
    } else if value > 0.0 {
        Repr::Text("inf".into())
    } else {
        Repr::Text("-inf".into())
    }
}

fn from_repr<E: serde::de::Error>(repr: Repr) -> Result<f64, E> {
    match repr {
        Repr::Number(v) => Ok(v),
        Repr::Null(()) => Ok(f64::NAN),
        Repr::Text(text) => match text.as_str() {
            "NaN" => Ok(f64::NAN),
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            other => Err(E::custom(format!(
                "expected a number, \"NaN\", \"inf\" or \"-inf\", got \"{other}\""
            ))),
        },
    }
}

/// Serialises `value` (see the module documentation).
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    to_repr(*value).serialize(serializer)
}

/// Deserialises a value written by [`serialize`], or a plain number, or `null` (NaN).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    from_repr(Repr::deserialize(deserializer)?)
}

/// The same scheme for a fixed-size array of floats.
pub mod array {
    use super::*;

    /// Serialises each element as [`super::serialize`] does.
    pub fn serialize<S: Serializer, const N: usize>(
        values: &[f64; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let reprs: Vec<Repr> = values.iter().map(|v| to_repr(*v)).collect();
        reprs.serialize(serializer)
    }

    /// Deserialises exactly `N` elements, each as [`super::deserialize`] does.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[f64; N], D::Error> {
        let reprs = Vec::<Repr>::deserialize(deserializer)?;
        let len = reprs.len();
        let values = reprs
            .into_iter()
            .map(from_repr)
            .collect::<Result<Vec<f64>, D::Error>>()?;
        values
            .try_into()
            .map_err(|_| serde::de::Error::custom(format!("expected {N} values, got {len}")))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Sample {
        #[serde(with = "super")]
        x: f64,
        #[serde(with = "super::array")]
        xs: [f64; 3],
    }

    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a == b
    }

    #[test]
    fn non_finite_values_round_trip() {
        for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.25, -3.0, 0.0] {
            let sample = Sample {
                x,
                xs: [x, 1.0, f64::NAN],
            };
            let json = serde_json::to_string(&sample).unwrap();
            assert!(!json.contains("null"), "{json}");
            let back: Sample = serde_json::from_str(&json).unwrap();
            assert!(same(back.x, x), "{json}");
            assert!(back.xs.iter().zip(sample.xs).all(|(a, b)| same(*a, b)));
        }
        let json = serde_json::to_string(&Sample {
            x: f64::NAN,
            xs: [f64::INFINITY, f64::NEG_INFINITY, 0.5],
        })
        .unwrap();
        assert_eq!(json, r#"{"x":"NaN","xs":["inf","-inf",0.5]}"#);
    }

    #[test]
    fn null_reads_as_nan_and_other_text_is_an_error() {
        let old: Sample = serde_json::from_str(r#"{"x":null,"xs":[1,2,null]}"#).unwrap();
        assert!(old.x.is_nan() && old.xs[2].is_nan());
        assert!(serde_json::from_str::<Sample>(r#"{"x":"lots","xs":[1,2,3]}"#).is_err());
        assert!(serde_json::from_str::<Sample>(r#"{"x":1,"xs":[1,2]}"#).is_err());
    }
}
