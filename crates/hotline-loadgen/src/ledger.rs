//! The duty ledger's read side on a generated year (`--ledger-figures`): the compliance
//! boards of the city, a county and a township for a month, the year's report of the city
//! and of a county, and its exports, each timed on its own over gRPC, `--rounds` times.
//! Meant for a server on a database where `hotline demo generate --import` wrote the city
//! and its year of the ledger (`scripts/ledger_bench.sh`).

use crate::figures::reader;
use crate::recorder::Recorder;
use hotline_proto::v1 as pb;
use std::time::Instant;

/// One request of the set.
#[derive(Clone)]
enum Ask {
    Board(pb::GetComplianceBoardRequest),
    Report(pb::GetYearReportRequest),
    Export(pb::ExportYearReportRequest),
}

/// Signs in as `county_manager` (of county 371502) and `admin`, then runs the set
/// `rounds` times over the ledger of `year`, recording each request under its label.
/// Returns the first failure's message, if any.
pub async fn run(
    channel: &tonic::transport::Channel,
    county_manager: &str,
    admin: &str,
    password: &str,
    rounds: u32,
    year: i32,
    recorder: &Recorder,
) -> anyhow::Result<Option<String>> {
    let mgr = reader(channel, county_manager, password).await?;
    let adm = reader(channel, admin, password).await?;
    let dir = hotline_store::citygen::generate(crate::history::CITY_SEED);
    let county = "371502";
    let township = dir
        .units
        .iter()
        .find(|u| u.parent_id.as_deref() == Some(county))
        .map(|u| u.id.clone())
        .ok_or_else(|| anyhow::anyhow!("the generated city has no township in {county}"))?;
    let month = format!("{year}-11");
    let board = |unit: &str| {
        Ask::Board(pb::GetComplianceBoardRequest { unit_id: unit.to_owned(), month: month.clone() })
    };
    let export = |format: pb::ReportFormat| {
        Ask::Export(pb::ExportYearReportRequest { year, county_id: String::new(), format: format as i32 })
    };
    let set: Vec<(&str, bool, Ask)> = vec![
        ("compliance board: city, a month", true, board("")),
        ("compliance board: county, a month", false, board("")),
        ("compliance board: township, a month", true, board(&township)),
        (
            "year's report: city",
            true,
            Ask::Report(pb::GetYearReportRequest { year, county_id: String::new() }),
        ),
        (
            "year's report: county",
            false,
            Ask::Report(pb::GetYearReportRequest { year, county_id: county.into() }),
        ),
        ("year's report: city, CSV", true, export(pb::ReportFormat::Csv)),
        ("year's report: city, XLSX", true, export(pb::ReportFormat::Xlsx)),
    ];
    let mut first_error = None;
    for _ in 0..rounds {
        for (label, as_admin, ask) in &set {
            let mut r = if *as_admin { adm.clone() } else { mgr.clone() };
            let began = Instant::now();
            let result = match ask.clone() {
                Ask::Board(req) => r.ledger.get_compliance_board(req).await.map(|_| ()),
                Ask::Report(req) => r.ledger.get_year_report(req).await.map(|_| ()),
                Ask::Export(req) => r.ledger.export_year_report(req).await.map(|_| ()),
            };
            let elapsed = began.elapsed();
            if let Err(e) = &result
                && first_error.is_none()
            {
                first_error = Some(format!("{label}: {:?} {}", e.code(), e.message()));
            }
            recorder.record(label, elapsed, result.err().map(|e| e.code()));
        }
    }
    Ok(first_error)
}
