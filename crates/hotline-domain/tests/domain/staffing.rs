//! Erlang C against the published check values (DOMAIN.md).

use hotline_domain::staffing::{Load, erlang_b};

fn close(got: f64, want: f64, places: i32) {
    let tolerance = 0.5 * 10f64.powi(-places);
    assert!((got - want).abs() <= tolerance, "got {got}, want {want} to {places} places");
}

#[test]
fn the_check_values() {
    // 100 calls per 30 minutes, AHT 180 s: A = 10 erlangs.
    let load = Load::per_interval(100.0, 1800.0, 180.0).unwrap();
    close(load.erlangs(), 10.0, 9);
    close(load.p_wait(14), 0.17413, 5);
    close(load.service_level(14, 20.0), 0.88835, 5);
    close(load.asa_secs(14).unwrap(), 7.836, 3);
    close(load.occupancy(14), 10.0 / 14.0, 9);
    assert_eq!(load.fewest_agents(0.8, 20.0), Ok(14));
    // 13 seats fall just short of 80 % in 20 s.
    assert!(load.service_level(13, 20.0) < 0.8);
    // The same load given per second.
    let per_sec = Load::new(100.0 / 1800.0, 180.0).unwrap();
    close(per_sec.p_wait(14), 0.17413, 5);
}

#[test]
fn at_or_below_the_load_the_queue_never_clears() {
    let load = Load::per_interval(100.0, 1800.0, 180.0).unwrap();
    for n in [0, 5, 10] {
        assert_eq!(load.p_wait(n), 1.0);
        assert_eq!(load.service_level(n, 20.0), 0.0);
        assert_eq!(load.asa_secs(n), None);
        assert_eq!(load.occupancy(n), 1.0);
    }
    assert!(load.asa_secs(11).is_some());
}

#[test]
fn more_agents_never_make_it_worse() {
    let load = Load::new(0.5, 240.0).unwrap(); // 120 erlangs
    let mut last = 0.0;
    for n in 121..200 {
        let sl = load.service_level(n, 15.0);
        assert!(sl >= last, "{n}");
        last = sl;
    }
    assert!(erlang_b(120.0, 150) < erlang_b(120.0, 130));
}
