//! The table: every RPC, the roles that may call it and each role's reach, and the
//! Markdown rendering of it that `docs/api.md` holds.

use hotline_domain::{Action, Role};

/// How far a role's reach goes on one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reach {
    /// Only the caller's own things: a counsel the orders assigned to them, a seat
    /// agent the calls they took and the orders they created, an agent their own seat,
    /// a person their own availability and figures.
    Own,
    /// A counsel: the orders assigned to them and the orders of their villages.
    Villages,
    /// A station lead: their township (orders placed there or sent to the station).
    Township,
    /// A county manager: their county.
    County,
    /// Everything the RPC covers, city-wide.
    City,
}

impl Reach {
    pub fn as_str(self) -> &'static str {
        match self {
            Reach::Own => "own",
            Reach::Villages => "villages",
            Reach::Township => "township",
            Reach::County => "county",
            Reach::City => "city",
        }
    }
}

/// One row of the table: an RPC (full gRPC method path) and the roles that may call
/// it, each with its reach. A public row needs no token; a row without cells refuses
/// everyone.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    pub public: bool,
    pub cells: &'static [(Role, Reach)],
    /// The lifecycle action the RPC takes, for the rows that take one.
    pub action: Option<Action>,
    /// Registering an order (the lifecycle's `REGISTER_ROLES`).
    pub registers: bool,
}

impl Rule {
    const fn new(method: &'static str, cells: &'static [(Role, Reach)]) -> Rule {
        Rule { method, public: false, cells, action: None, registers: false }
    }
    const fn public(method: &'static str) -> Rule {
        Rule { method, public: true, cells: &[], action: None, registers: false }
    }
    const fn action(method: &'static str, action: Action, cells: &'static [(Role, Reach)]) -> Rule {
        Rule { method, public: false, cells, action: Some(action), registers: false }
    }

    /// The reach of `role` on this RPC, or `None` when the role may not call it.
    pub fn reach(&self, role: Role) -> Option<Reach> {
        self.cells.iter().find(|(r, _)| *r == role).map(|(_, reach)| *reach)
    }
}

use Reach::{City, County, Own, Township, Villages};
use Role::{
    CallbackAgent as CB, CityAdmin as ADMIN, Counsel as COUNSEL, CountyManager as CM, Dispatcher as D,
    SeatAgent as SA, StationLead as LEAD, Telephony as CTI,
};

/// Every staff role (everyone but the telephony account), city-wide: the directory,
/// the map of institutions, the time-limit policy and the holiday calendar are reference
/// data that every desk needs (every desk's deadlines are counted by the last two).
const STAFF_CITY: &[(Role, Reach)] =
    &[(SA, City), (D, City), (CB, City), (COUNSEL, City), (LEAD, City), (CM, City), (ADMIN, City)];
/// Reading work orders: each role within its jurisdiction.
const ORDER_READERS: &[(Role, Reach)] =
    &[(SA, Own), (D, City), (CB, City), (COUNSEL, Villages), (LEAD, Township), (CM, County), (ADMIN, City)];
/// The live queue and seat state belong to the city's call centre; a call in the
/// queue has no place yet, so whoever reads it reads the whole queue.
const QUEUE_READERS: &[(Role, Reach)] = &[(SA, City), (D, City), (CM, City), (ADMIN, City)];
/// Figures of the call centre (no place either).
const CALL_FIGURE_READERS: &[(Role, Reach)] = &[(D, City), (CM, City), (ADMIN, City)];
/// Handler actions: a counsel on the orders assigned to them, a station lead on their
/// township's.
const HANDLERS: &[(Role, Reach)] = &[(COUNSEL, Own), (LEAD, Township)];
/// Changing a person's availability.
const AVAILABILITY_KEEPERS: &[(Role, Reach)] = &[(LEAD, Township), (CM, County), (ADMIN, City)];
const TELEPHONY: &[(Role, Reach)] = &[(CTI, City)];
/// Writing one's own ledger: a counsel, and a station lead on their team's township.
const LEDGER_WRITERS: &[(Role, Reach)] = &[(COUNSEL, Own), (LEAD, Own)];
/// Reading the ledger: a counsel their own, the others within their unit.
const LEDGER_READERS: &[(Role, Reach)] = &[(COUNSEL, Own), (LEAD, Township), (CM, County), (ADMIN, City)];
/// What managers read of the ledger: townships, counties, the city.
const LEDGER_MANAGERS: &[(Role, Reach)] = &[(LEAD, Township), (CM, County), (ADMIN, City)];
/// The year's report: of a county, or of the city.
const YEAR_REPORT_READERS: &[(Role, Reach)] = &[(CM, County), (ADMIN, City)];
/// The fund's accounts: the city admin all of them, a county manager their county's
/// and its townships', a station lead their township's.
const FUND_KEEPERS: &[(Role, Reach)] = &[(LEAD, Township), (CM, County), (ADMIN, City)];
/// Disqualifications: proposed by the county, decided by the city.
const DISQUALIFICATION_READERS: &[(Role, Reach)] = &[(CM, County), (ADMIN, City)];

/// The `WatchWorkOrders` stream of `WorkOrderService`.
pub const WATCH_WORK_ORDERS: &str = "/hotline.v1.WorkOrderService/WatchWorkOrders";

/// The table: every RPC the server answers, public ones included.
pub static TABLE: &[Rule] = &[
    // Health and reflection answer without a token.
    Rule::public("/grpc.health.v1.Health/Check"),
    Rule::public("/grpc.health.v1.Health/Watch"),
    Rule::public("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
    // AuthService
    Rule::public("/hotline.v1.AuthService/SignIn"),
    Rule::new(
        "/hotline.v1.AuthService/WhoAmI",
        &[(SA, Own), (D, Own), (CB, Own), (COUNSEL, Own), (LEAD, Own), (CM, Own), (ADMIN, Own), (CTI, Own)],
    ),
    Rule::new(
        "/hotline.v1.AuthService/SignOut",
        &[(SA, Own), (D, Own), (CB, Own), (COUNSEL, Own), (LEAD, Own), (CM, Own), (ADMIN, Own), (CTI, Own)],
    ),
    Rule::new("/hotline.v1.AuthService/DeactivateUser", &[(ADMIN, City)]),
    Rule::new("/hotline.v1.AuthService/ListUsers", &[(ADMIN, City)]),
    Rule::new("/hotline.v1.AuthService/CreateUser", &[(ADMIN, City)]),
    Rule::new("/hotline.v1.AuthService/ResetPassword", &[(ADMIN, City)]),
    // AuditService
    Rule::new("/hotline.v1.AuditService/ListCallerDataViews", &[(ADMIN, City)]),
    // CallService
    Rule::new("/hotline.v1.CallService/RecordCall", &[(SA, Own), (D, Own)]),
    Rule::new(
        "/hotline.v1.CallService/GetCall",
        &[(SA, Own), (D, City), (CB, City), (CM, County), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.CallService/GetCallerHistory", &[(SA, Own), (D, City), (CB, City), (ADMIN, City)]),
    Rule::new("/hotline.v1.CallService/SuggestCategory", &[(SA, City), (D, City)]),
    Rule::new("/hotline.v1.CallService/GetSuggestionStats", &[(D, City), (CM, County), (ADMIN, City)]),
    // DirectoryService
    Rule::new("/hotline.v1.DirectoryService/GetUnit", STAFF_CITY),
    Rule::new("/hotline.v1.DirectoryService/ListUnits", STAFF_CITY),
    Rule::new("/hotline.v1.DirectoryService/GetStation", STAFF_CITY),
    Rule::new("/hotline.v1.DirectoryService/GetPerson", STAFF_CITY),
    Rule::new("/hotline.v1.DirectoryService/ListPeople", STAFF_CITY),
    // RoutingService
    Rule::new(
        "/hotline.v1.RoutingService/SuggestAssignees",
        &[(SA, City), (D, City), (CM, County), (ADMIN, City)],
    ),
    Rule::new(
        "/hotline.v1.RoutingService/GetRoutingPolicy",
        &[(SA, City), (D, City), (CM, City), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.RoutingService/SetRoutingPolicy", &[(ADMIN, City)]),
    Rule::new(
        "/hotline.v1.RoutingService/GetAvailability",
        &[(SA, City), (D, City), (COUNSEL, Own), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.RoutingService/SetAvailability", AVAILABILITY_KEEPERS),
    Rule::new("/hotline.v1.RoutingService/AddLeave", AVAILABILITY_KEEPERS),
    Rule::new("/hotline.v1.RoutingService/CancelLeave", AVAILABILITY_KEEPERS),
    // MapService
    Rule::new("/hotline.v1.MapService/FindNearbyInstitutions", STAFF_CITY),
    Rule::new("/hotline.v1.MapService/FindInstitutionsForVillage", STAFF_CITY),
    // SeatService
    Rule::new("/hotline.v1.SeatService/SignInSeat", &[(SA, Own)]),
    Rule::new("/hotline.v1.SeatService/SetPresence", &[(SA, Own)]),
    Rule::new("/hotline.v1.SeatService/SignOutSeat", &[(SA, Own), (D, City), (ADMIN, City)]),
    Rule::new("/hotline.v1.SeatService/SetAgentSkills", &[(D, City), (ADMIN, City)]),
    Rule::new("/hotline.v1.SeatService/GetAgent", &[(SA, Own), (D, City), (CM, City), (ADMIN, City)]),
    // TelephonyService
    Rule::new("/hotline.v1.TelephonyService/CallOffered", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/SeatRung", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/CallAnswered", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/CallAbandoned", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/CallTransferred", TELEPHONY),
    Rule::new("/hotline.v1.TelephonyService/CallEnded", TELEPHONY),
    // QueueService
    Rule::new("/hotline.v1.QueueService/GetQueueSnapshot", QUEUE_READERS),
    Rule::new("/hotline.v1.QueueService/WatchQueue", QUEUE_READERS),
    Rule::new("/hotline.v1.QueueService/ListQueueCalls", QUEUE_READERS),
    Rule::new("/hotline.v1.QueueService/GetQueueCall", QUEUE_READERS),
    // StatisticsService
    Rule::new("/hotline.v1.StatisticsService/GetCallFigures", CALL_FIGURE_READERS),
    Rule::new(
        "/hotline.v1.StatisticsService/GetWorkOrderFigures",
        &[(COUNSEL, Own), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.StatisticsService/GetRanking", &[(LEAD, Township), (CM, County), (ADMIN, City)]),
    Rule::new("/hotline.v1.StatisticsService/GetStaffingAdvice", CALL_FIGURE_READERS),
    // TimeLimitService
    Rule::new("/hotline.v1.TimeLimitService/GetTimeLimitPolicy", STAFF_CITY),
    Rule::new("/hotline.v1.TimeLimitService/SetTimeLimitPolicy", &[(ADMIN, City)]),
    Rule::new("/hotline.v1.TimeLimitService/GetHolidayCalendar", STAFF_CITY),
    Rule::new("/hotline.v1.TimeLimitService/SetHolidayYear", &[(ADMIN, City)]),
    // FundService
    Rule::new("/hotline.v1.FundService/AllocateFund", &[(ADMIN, City)]),
    Rule::new("/hotline.v1.FundService/GetFundYear", FUND_KEEPERS),
    Rule::new("/hotline.v1.FundService/ListAccounts", FUND_KEEPERS),
    Rule::new("/hotline.v1.FundService/GetAccountStatement", FUND_KEEPERS),
    Rule::new("/hotline.v1.FundService/PayCounsel", FUND_KEEPERS),
    Rule::new(
        "/hotline.v1.FundService/ListPayments",
        &[(COUNSEL, Own), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.FundService/GetProgrammePolicy", STAFF_CITY),
    Rule::new("/hotline.v1.FundService/SetProgrammePolicy", &[(ADMIN, City)]),
    // AssessmentService
    Rule::new(
        "/hotline.v1.AssessmentService/GetAssessment",
        &[(COUNSEL, Own), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    // The year's ten best are announced city-wide.
    Rule::new("/hotline.v1.AssessmentService/GetTenBest", STAFF_CITY),
    Rule::new("/hotline.v1.AssessmentService/ProposeDisqualification", &[(CM, County)]),
    Rule::new("/hotline.v1.AssessmentService/DecideDisqualification", &[(ADMIN, City)]),
    Rule::new("/hotline.v1.AssessmentService/GetDisqualification", DISQUALIFICATION_READERS),
    Rule::new("/hotline.v1.AssessmentService/ListDisqualifications", DISQUALIFICATION_READERS),
    // DisclosureService: the public boards answer without a token.
    Rule::public("/hotline.v1.DisclosureService/GetVillageBoard"),
    Rule::public("/hotline.v1.DisclosureService/GetTownshipBoard"),
    // WorkOrderService
    Rule {
        method: "/hotline.v1.WorkOrderService/CreateWorkOrder",
        public: false,
        cells: &[(SA, Own), (D, City)],
        action: None,
        registers: true,
    },
    Rule::new("/hotline.v1.WorkOrderService/GetWorkOrder", ORDER_READERS),
    Rule::new(
        "/hotline.v1.WorkOrderService/ListWorkOrders",
        &[(D, City), (CB, City), (COUNSEL, Villages), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    Rule::new("/hotline.v1.WorkOrderService/GetWorkOrderHistory", ORDER_READERS),
    Rule::new(
        WATCH_WORK_ORDERS,
        &[(D, City), (CB, City), (COUNSEL, Own), (LEAD, Township), (CM, County), (ADMIN, City)],
    ),
    Rule::action("/hotline.v1.WorkOrderService/DispatchWorkOrder", Action::Dispatch, &[(SA, Own), (D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/AnswerAndClose", Action::AnswerAndClose, &[(SA, Own)]),
    Rule::action("/hotline.v1.WorkOrderService/SignOffWorkOrder", Action::SignOff, HANDLERS),
    Rule::action("/hotline.v1.WorkOrderService/ReturnWorkOrder", Action::Return, HANDLERS),
    Rule::action("/hotline.v1.WorkOrderService/ReviewReturn", Action::ReviewReturn, &[(D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/RequestExtension", Action::RequestExtension, HANDLERS),
    Rule::action("/hotline.v1.WorkOrderService/DecideExtension", Action::DecideExtension, &[(D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/ReplyWorkOrder", Action::Reply, HANDLERS),
    Rule::action("/hotline.v1.WorkOrderService/ReviewReply", Action::ReviewReply, &[(D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/RecordCallback", Action::RecordCallback, &[(CB, City)]),
    Rule::action("/hotline.v1.WorkOrderService/PassOnRedo", Action::PassOnRedo, &[(D, City)]),
    Rule::action("/hotline.v1.WorkOrderService/CancelWorkOrder", Action::Cancel, &[(SA, Own), (D, City)]),
    Rule::action(
        "/hotline.v1.WorkOrderService/ArchiveWorkOrder",
        Action::Archive,
        &[(D, City), (ADMIN, City)],
    ),
    // LedgerService
    Rule::new("/hotline.v1.LedgerService/CheckIn", LEDGER_WRITERS),
    Rule::new("/hotline.v1.LedgerService/CheckOut", LEDGER_WRITERS),
    Rule::new("/hotline.v1.LedgerService/ReviewVisit", &[(LEAD, Township), (CM, County)]),
    Rule::new("/hotline.v1.LedgerService/ListVisits", LEDGER_READERS),
    Rule::new("/hotline.v1.LedgerService/CreateRecord", LEDGER_WRITERS),
    Rule::new("/hotline.v1.LedgerService/ListRecords", LEDGER_READERS),
    Rule::new("/hotline.v1.LedgerService/SetNineOne", &[(COUNSEL, Own)]),
    Rule::new("/hotline.v1.LedgerService/GetNineOnes", LEDGER_READERS),
    Rule::new("/hotline.v1.LedgerService/SubmitMonthlyReport", &[(COUNSEL, Own)]),
    Rule::new("/hotline.v1.LedgerService/ReviewMonthlyReport", &[(LEAD, Township)]),
    Rule::new("/hotline.v1.LedgerService/ListMonthlyReports", LEDGER_READERS),
    Rule::new("/hotline.v1.LedgerService/RecordMeeting", &[(LEAD, Township)]),
    Rule::new("/hotline.v1.LedgerService/ListMeetings", LEDGER_MANAGERS),
    Rule::new("/hotline.v1.LedgerService/GetComplianceBoard", LEDGER_MANAGERS),
    Rule::new("/hotline.v1.LedgerService/GetYearReport", YEAR_REPORT_READERS),
    Rule::new("/hotline.v1.LedgerService/ExportYearReport", YEAR_REPORT_READERS),
];

/// The row of a method path, if the table has one.
pub fn rule(method: &str) -> Option<&'static Rule> {
    TABLE.iter().find(|r| r.method == method)
}

/// The table as a Markdown table (the "Authorization" section of `docs/api.md`):
/// one row per RPC, one column per role, each cell the role's reach or `-`.
pub fn markdown_table() -> String {
    const COLUMNS: &[Role] = &[SA, D, CB, COUNSEL, LEAD, CM, ADMIN, CTI];
    let mut out = String::from("| RPC |");
    for r in COLUMNS {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n|---|");
    for _ in COLUMNS {
        out.push_str("---|");
    }
    out.push('\n');
    for rule in TABLE {
        let name = rule.method.trim_start_matches('/').replace("hotline.v1.", "");
        out.push_str(&format!("| `{name}` |"));
        for role in COLUMNS {
            let cell = if rule.public { "public" } else { rule.reach(*role).map_or("-", Reach::as_str) };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_domain::{REGISTER_ROLES, roles_for};
    use std::collections::BTreeSet;

    fn roles(rule: &Rule) -> BTreeSet<String> {
        rule.cells.iter().map(|(r, _)| r.to_string()).collect()
    }

    #[test]
    fn action_rows_agree_with_the_lifecycle_role_table() {
        let mut seen = BTreeSet::new();
        for rule in TABLE {
            if let Some(action) = rule.action {
                let lifecycle: BTreeSet<String> = roles_for(action)
                    .iter()
                    .filter(|r| **r != Role::System)
                    .map(ToString::to_string)
                    .collect();
                assert_eq!(roles(rule), lifecycle, "{}: roles differ from roles_for({action})", rule.method);
                seen.insert(action.to_string());
            }
            if rule.registers {
                let lifecycle: BTreeSet<String> = REGISTER_ROLES.iter().map(ToString::to_string).collect();
                assert_eq!(roles(rule), lifecycle, "{}: roles differ from REGISTER_ROLES", rule.method);
            }
        }
        assert_eq!(seen.len(), Action::ALL.len(), "every lifecycle action has an RPC row");
    }

    #[test]
    fn rows_are_unique_and_public_rows_have_no_cells() {
        let mut methods = BTreeSet::new();
        for rule in TABLE {
            assert!(methods.insert(rule.method), "{} has two rows", rule.method);
            assert!(!rule.public || rule.cells.is_empty(), "{} is public and has cells", rule.method);
            assert!(rule.public || !rule.cells.is_empty(), "{} refuses everyone", rule.method);
            assert!(
                rule.cells.iter().all(|(r, _)| *r != Role::System),
                "{}: System is no caller",
                rule.method
            );
        }
    }

    #[test]
    fn the_documented_table_matches_the_code() {
        let doc = include_str!("../../../../docs/api.md");
        let table = markdown_table();
        assert!(
            doc.contains(&table),
            "docs/api.md's Authorization table differs from the code; it should read:\n{table}"
        );
    }
}
