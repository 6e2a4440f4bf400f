//! Distances on the earth and an in-memory index of points for "what is near here".
//!
//! [`GeoIndex`] buckets points into a grid of cells [`CELL_DEGREES`] on a side; a radius
//! query looks only at the cells that the radius's bounding box touches, measures each
//! point there by the haversine formula, and returns those within the radius ordered by
//! distance (then by insertion order). For a city of some ten thousand institutions a
//! 5 km query touches a handful of cells and a few hundred points.

/// Mean earth radius in kilometres (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// Side of a grid cell in degrees (about 5.5 km of latitude).
pub const CELL_DEGREES: f64 = 0.05;

/// Kilometres per degree of latitude on the mean sphere.
const KM_PER_DEGREE: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// Great-circle distance in kilometres between two points given in degrees.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// Points on a grid, each known by its position in insertion order.
#[derive(Debug, Clone, Default)]
pub struct GeoIndex {
    points: Vec<(f64, f64)>,
    cells: std::collections::HashMap<(i32, i32), Vec<u32>>,
}

fn cell_of(lat: f64, lon: f64) -> (i32, i32) {
    ((lat / CELL_DEGREES).floor() as i32, (lon / CELL_DEGREES).floor() as i32)
}

impl GeoIndex {
    /// Indexes `points` (latitude, longitude in degrees); the n-th point is known as `n`.
    pub fn new(points: Vec<(f64, f64)>) -> GeoIndex {
        let mut cells: std::collections::HashMap<(i32, i32), Vec<u32>> = std::collections::HashMap::new();
        for (i, &(lat, lon)) in points.iter().enumerate() {
            cells.entry(cell_of(lat, lon)).or_default().push(i as u32);
        }
        GeoIndex { points, cells }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn point(&self, n: usize) -> (f64, f64) {
        self.points[n]
    }

    /// Points within `radius_km` of (lat, lon) for which `keep` holds, nearest first
    /// (equal distances by insertion order), at most `limit` of them.
    pub fn within(
        &self,
        lat: f64,
        lon: f64,
        radius_km: f64,
        limit: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<(usize, f64)> {
        let dlat = radius_km / KM_PER_DEGREE;
        // Longitude degrees shrink towards the poles: use the box edge nearest a pole.
        let edge = (lat.abs() + dlat).min(89.999_999);
        let dlon = (dlat / edge.to_radians().cos()).min(180.0);
        let (lo, hi) = (cell_of(lat - dlat, lon - dlon), cell_of(lat + dlat, lon + dlon));
        let mut found: Vec<(usize, f64)> = Vec::new();
        for i in lo.0..=hi.0 {
            for j in lo.1..=hi.1 {
                let Some(cell) = self.cells.get(&(i, j)) else { continue };
                for &n in cell {
                    let (plat, plon) = self.points[n as usize];
                    if (plat - lat).abs() > dlat {
                        continue;
                    }
                    let d = haversine_km(lat, lon, plat, plon);
                    if d <= radius_km && keep(n as usize) {
                        found.push((n as usize, d));
                    }
                }
            }
        }
        found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        found.truncate(limit);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        // Liaocheng to Jinan, about 100 km.
        let d = haversine_km(36.457, 115.985, 36.651, 117.120);
        assert!((d - 103.5).abs() < 1.5, "{d}");
        assert_eq!(haversine_km(36.0, 116.0, 36.0, 116.0), 0.0);
        // One degree of latitude.
        assert!((haversine_km(36.0, 116.0, 37.0, 116.0) - 111.195).abs() < 0.01);
    }

    #[test]
    fn within_matches_brute_force_on_a_grid() {
        let mut points = Vec::new();
        for i in 0..60 {
            for j in 0..60 {
                points.push((35.8 + f64::from(i) * 0.018, 115.2 + f64::from(j) * 0.023));
            }
        }
        let index = GeoIndex::new(points.clone());
        for (lat, lon, r) in
            [(36.3, 115.9, 5.0), (35.8, 115.2, 12.0), (36.85, 116.55, 30.0), (36.0, 116.0, 0.0)]
        {
            let got = index.within(lat, lon, r, usize::MAX, |_| true);
            let mut want: Vec<(usize, f64)> = points
                .iter()
                .enumerate()
                .map(|(n, &(a, b))| (n, haversine_km(lat, lon, a, b)))
                .filter(|(_, d)| *d <= r)
                .collect();
            want.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            assert_eq!(got, want, "at {lat},{lon} r {r}");
        }
    }
}
