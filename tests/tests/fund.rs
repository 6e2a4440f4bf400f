//! The special fund over real gRPC, on SQLite and PostgreSQL: the report's 26,000,000.00
//! yuan shared 3 : 5 : 2 into the accounts to the fen, the growth rate, payments that
//! never overdraw an account however many race, statements that add up, idempotent
//! payments, and refusals by role and jurisdiction.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, Clients, TestApp, on_both_backends};
use rust_decimal::Decimal;
use std::str::FromStr;
use tonic::Code;

on_both_backends!(
    the_reports_fund_is_shared_to_the_fen,
    concurrent_payments_never_overdraw,
    payments_are_idempotent_and_refused_by_rule,
    refusals_by_role_and_jurisdiction,
);

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("`{s}` is a decimal"))
}

async fn allocate(admin: &mut Clients, year: i32, amount: &str) -> pb::FundYear {
    admin
        .fund
        .allocate_fund(pb::AllocateFundRequest { year, amount: amount.into(), ..Default::default() })
        .await
        .unwrap_or_else(|e| panic!("allocate {year}: {e}"))
        .into_inner()
}

async fn accounts(c: &mut Clients) -> pb::ListAccountsResponse {
    c.fund.list_accounts(pb::ListAccountsRequest::default()).await.expect("list accounts").into_inner()
}

/// Every entry of an account's statement, page by page.
async fn statement(c: &mut Clients, unit: &str) -> (pb::Account, Vec<pb::StatementEntry>) {
    let mut entries = Vec::new();
    let mut token = String::new();
    loop {
        let s = c
            .fund
            .get_account_statement(pb::GetAccountStatementRequest {
                unit_id: unit.into(),
                page: Some(pb::PageRequest { page_size: 7, page_token: token }),
            })
            .await
            .expect("statement")
            .into_inner();
        entries.extend(s.entries);
        if s.next_page_token.is_empty() {
            return (s.account.expect("account"), entries);
        }
        token = s.next_page_token;
    }
}

/// The statement adds up: each balance is the one before plus the entry, never below
/// zero, and the last is the account's balance.
fn assert_adds_up(account: &pb::Account, entries: &[pb::StatementEntry]) {
    let mut balance = Decimal::ZERO;
    let mut last_id = 0;
    for e in entries {
        assert!(e.id > last_id, "entries are in order");
        last_id = e.id;
        balance += d(&e.amount);
        assert_eq!(d(&e.balance), balance, "entry {} of {}", e.id, account.unit_id);
        assert!(balance >= Decimal::ZERO, "never below zero");
        assert_eq!(e.balance.split('.').nth(1).map(str::len), Some(2), "two places: {}", e.balance);
    }
    assert_eq!(d(&account.balance), balance);
    assert_eq!(d(&account.credited) - d(&account.paid), balance);
}

async fn the_reports_fund_is_shared_to_the_fen(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut admin = app.sign_in("admin").await;

    let y = allocate(&mut admin, 2026, "26000000.00").await;
    assert_eq!((y.city_share.as_str(), y.county_share.as_str()), ("7800000.00", "13000000.00"));
    assert_eq!(y.township_share, "5200000.00");
    assert_eq!(y.amount, "26000000.00");
    assert_eq!(y.growth_rate, "");
    // The city, the eleven counties, the demo's three townships.
    assert_eq!(y.credits.len(), 1 + 11 + 3);
    let sum = |level: pb::FundLevel| -> Decimal {
        y.credits.iter().filter(|c| c.level == level as i32).map(|c| d(&c.amount)).sum()
    };
    assert_eq!(sum(pb::FundLevel::City), d("7800000.00"));
    assert_eq!(sum(pb::FundLevel::County), d("13000000.00"));
    assert_eq!(sum(pb::FundLevel::Township), d("5200000.00"));
    assert_eq!(y.credits.iter().map(|c| d(&c.amount)).sum::<Decimal>(), d("26000000.00"));
    // By village count: 东昌府区 has 5 of the 7 villages, 阳谷县 2; 沙镇镇 3, 堂邑镇 and
    // 阿城镇 2 each; the last fen by the split's rule.
    let credit = |unit: &str| y.credits.iter().find(|c| c.unit_id == unit).expect("credited").amount.clone();
    assert_eq!(credit("371502"), "9285714.29");
    assert_eq!(credit("371521"), "3714285.71");
    assert_eq!(credit("371503"), "0.00");
    assert_eq!(credit("371502101"), "2228571.43");
    assert_eq!(credit("371502102"), "1485714.29");
    assert_eq!(credit("371521101"), "1485714.28");
    assert!(y.credits.iter().any(|c| c.unit_name == "东昌府区"));

    let all = accounts(&mut admin).await;
    assert_eq!(all.total_balance, "26000000.00");
    assert_eq!(all.accounts.len(), 15);

    // One allocation a year.
    let again = admin
        .fund
        .allocate_fund(pb::AllocateFundRequest { year: 2026, amount: "1.00".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists, "{again:?}");

    // Next year's grows by 5 %, rounded to the fen.
    let next = admin
        .fund
        .allocate_fund(pb::AllocateFundRequest {
            year: 2027,
            growth_rate: "0.05".into(),
            ..Default::default()
        })
        .await
        .expect("grow")
        .into_inner();
    assert_eq!((next.amount.as_str(), next.growth_rate.as_str()), ("27300000.00", "0.05"));
    assert_eq!(next.city_share, "8190000.00");
    assert_eq!(next.credits.iter().map(|c| d(&c.amount)).sum::<Decimal>(), d("27300000.00"));
    // 27,300,000.00 x 1.0333 = 28,209,090.00.
    let grown = admin
        .fund
        .allocate_fund(pb::AllocateFundRequest {
            year: 2028,
            growth_rate: "0.0333".into(),
            ..Default::default()
        })
        .await
        .expect("grow again")
        .into_inner();
    assert_eq!(grown.amount, "28209090.00");
    let got =
        admin.fund.get_fund_year(pb::GetFundYearRequest { year: 2027 }).await.expect("year").into_inner();
    assert_eq!(got.amount, "27300000.00");
    assert_eq!(got.credits.len(), 15);
    assert_eq!(accounts(&mut admin).await.total_balance, "81509090.00");

    // Each account's statement: one credit a year, adding up.
    for unit in ["371500", "371502", "371521101"] {
        let (account, entries) = statement(&mut admin, unit).await;
        assert_eq!(entries.len(), 3, "{unit}");
        assert!(entries.iter().all(|e| e.kind == pb::EntryKind::Allocation as i32));
        assert_eq!(entries.iter().map(|e| e.year).collect::<Vec<_>>(), [2026, 2027, 2028]);
        assert_adds_up(&account, &entries);
    }

    // Bad requests name the field; nothing is allocated.
    let bad = |year: i32, amount: &str, rate: &str| pb::AllocateFundRequest {
        year,
        amount: amount.into(),
        growth_rate: rate.into(),
    };
    for (req, field, code) in [
        (bad(2030, "", ""), "amount", Code::InvalidArgument),
        (bad(2030, "1.00", "0.05"), "growth_rate", Code::InvalidArgument),
        (bad(2030, "1.001", ""), "amount", Code::InvalidArgument),
        (bad(2030, "-5", ""), "amount", Code::InvalidArgument),
        (bad(2030, "", "1.5"), "growth_rate", Code::InvalidArgument),
        (bad(1999, "1.00", ""), "year", Code::InvalidArgument),
        // 2029 was not allocated: nothing to grow from.
        (bad(2030, "", "0.05"), "growth_rate", Code::FailedPrecondition),
    ] {
        let e = admin.fund.allocate_fund(req.clone()).await.unwrap_err();
        assert_eq!(e.code(), code, "{req:?}: {e:?}");
        assert!(e.message().starts_with(&format!("{field}: ")), "{req:?}: {}", e.message());
    }
    assert_eq!(accounts(&mut admin).await.total_balance, "81509090.00");
    app.stop().await;
}

fn pay(unit: &str, person: &str, kind: &str, service_ref: &str, request_id: &str) -> pb::PayCounselRequest {
    pb::PayCounselRequest {
        request_id: request_id.into(),
        account_unit_id: unit.into(),
        person_id: person.into(),
        service_kind: kind.into(),
        service_ref: service_ref.into(),
        quantity: 0,
        note: String::new(),
    }
}

async fn concurrent_payments_never_overdraw(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut admin = app.sign_in("admin").await;
    admin
        .fund
        .set_programme_policy(pb::SetProgrammePolicyRequest { toml: "[rates]\nvisit = \"70.00\"\n".into() })
        .await
        .expect("policy");
    // 35,000.00 x 2/10 x 2/7: 阿城镇's account holds 2,000.00.
    allocate(&mut admin, 2026, "35000.00").await;
    let county2 = app.sign_in("county2").await;

    // Fifty payments of 70.00 at once: only 28 fit (1,960.00).
    let mut tasks = Vec::new();
    for i in 0..50 {
        let mut c = county2.clone();
        tasks.push(tokio::spawn(async move {
            c.fund
                .pay_counsel(pay("371521101", "P0005", "visit", &format!("VISIT-{i}"), &format!("p-{i}")))
                .await
        }));
    }
    let (mut paid, mut refused) = (Vec::new(), 0);
    for t in tasks {
        match t.await.expect("task") {
            Ok(r) => paid.push(r.into_inner()),
            Err(e) => {
                assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
                assert!(e.message().contains("less than the payment"), "{}", e.message());
                refused += 1;
            }
        }
    }
    assert_eq!((paid.len(), refused), (28, 22));
    for p in &paid {
        let entry = p.entry.as_ref().expect("entry");
        assert!(d(&entry.balance) >= Decimal::ZERO);
        assert_eq!(p.payment.as_ref().expect("payment").amount, "70.00");
    }

    let (account, entries) = statement(&mut admin, "371521101").await;
    assert_eq!(account.balance, "40.00");
    assert_eq!((account.credited.as_str(), account.paid.as_str()), ("2000.00", "1960.00"));
    assert_eq!(entries.len(), 1 + 28, "one credit and a debit per payment, nothing lost");
    assert_adds_up(&account, &entries);
    let mut balances: Vec<Decimal> =
        paid.iter().map(|p| d(&p.entry.as_ref().expect("entry").balance)).collect();
    balances.sort();
    let expected: Vec<Decimal> = (0..28).map(|k| d("40.00") + Decimal::from(70 * k)).collect();
    assert_eq!(balances, expected, "each payment saw the balance the one before it left");

    let listed = admin
        .fund
        .list_payments(pb::ListPaymentsRequest {
            account_unit_id: "371521101".into(),
            page: Some(pb::PageRequest { page_size: 500, page_token: String::new() }),
            ..Default::default()
        })
        .await
        .expect("payments")
        .into_inner();
    assert_eq!(listed.payments.len(), 28);
    // The other accounts were not touched.
    assert_eq!(accounts(&mut admin).await.total_balance, "33040.00");
    app.stop().await;
}

async fn payments_are_idempotent_and_refused_by_rule(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut admin = app.sign_in("admin").await;
    // 35,000.00 x 2/10 x 3/7: 沙镇镇's account holds 3,000.00.
    allocate(&mut admin, 2026, "35000.00").await;
    let mut lead = app.sign_in("lead").await; // 沙镇镇's station

    // Three days on site at the built-in rate of 300.00.
    let mut first_req = pay("371502101", "P0001", "on_site_day", "LEDGER-2026-0001", "pay-1");
    first_req.quantity = 3;
    first_req.note = "三月驻村".into();
    let first = lead.fund.pay_counsel(first_req.clone()).await.expect("pay").into_inner();
    let payment = first.payment.clone().expect("payment");
    assert_eq!((payment.rate.as_str(), payment.amount.as_str()), ("300.00", "900.00"));
    assert_eq!(payment.paid_by, lead.user.id);
    let entry = first.entry.clone().expect("entry");
    assert_eq!(entry.amount, "-900.00");
    assert_eq!(entry.balance, "2100.00");

    // A repeat, also several at once, answers the first payment and pays nothing more.
    let mut repeats = Vec::new();
    for _ in 0..5 {
        let mut c = lead.clone();
        let req = first_req.clone();
        repeats.push(tokio::spawn(async move { c.fund.pay_counsel(req).await }));
    }
    for r in repeats {
        assert_eq!(r.await.expect("task").expect("repeat").into_inner(), first);
    }
    let (account, entries) = statement(&mut admin, "371502101").await;
    assert_eq!(entries.len(), 2);
    assert_eq!(account.balance, "2100.00");

    // The id with another request is refused; a new id for a record paid already too.
    let mut other = first_req.clone();
    other.quantity = 4;
    let e = lead.fund.pay_counsel(other).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("request_id: `pay-1` already names another request"), "{}", e.message());
    let e =
        lead.fund.pay_counsel(pay("371502101", "P0001", "on_site_day", "LEDGER-2026-0001", "pay-2")).await;
    let e = e.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
    assert!(e.message().contains("was paid already"), "{}", e.message());
    // The same record under another kind of service is another payment.
    lead.fund
        .pay_counsel(pay("371502101", "P0001", "consultation", "LEDGER-2026-0001", ""))
        .await
        .expect("another kind");

    // Bad input names the field; nothing is paid.
    for (req, field, code) in [
        (pay("371502101", "P0001", "lecture", "R-1", ""), "service_kind", Code::InvalidArgument),
        (pay("371502101", "P0001", "on_site_day", " ", ""), "service_ref", Code::InvalidArgument),
        (pay("371502101", "P9999", "on_site_day", "R-1", ""), "person_id", Code::InvalidArgument),
        // 孙丽 serves in 阳谷县, not in 沙镇镇.
        (pay("371502101", "P0005", "on_site_day", "R-1", ""), "person_id", Code::InvalidArgument),
        (pay("", "P0001", "on_site_day", "R-1", ""), "account_unit_id", Code::InvalidArgument),
        (
            pb::PayCounselRequest { quantity: 1001, ..pay("371502101", "P0001", "on_site_day", "R-1", "") },
            "quantity",
            Code::InvalidArgument,
        ),
        // More than the account holds.
        (
            pb::PayCounselRequest { quantity: 3, ..pay("371502101", "P0001", "legal_aid", "R-1", "") },
            "",
            Code::FailedPrecondition,
        ),
    ] {
        let e = lead.fund.pay_counsel(req.clone()).await.unwrap_err();
        assert_eq!(e.code(), code, "{req:?}: {e:?}");
        assert!(e.message().starts_with(&format!("{field}: ")) || field.is_empty(), "{}", e.message());
    }
    let e = lead
        .fund
        .pay_counsel(pb::PayCounselRequest {
            quantity: 3,
            ..pay("371502101", "P0001", "legal_aid", "R-1", "")
        })
        .await
        .unwrap_err();
    assert!(e.message().contains("holds 2050.00 yuan, less than the payment of 2400.00"), "{}", e.message());
    assert_eq!(statement(&mut admin, "371502101").await.1.len(), 3);

    // A new rate applies to the next payment, on every instance.
    admin
        .fund
        .set_programme_policy(pb::SetProgrammePolicyRequest {
            toml: "[rates]\non_site_day = \"350\"\nconsultation = 60\n".into(),
        })
        .await
        .expect("policy");
    let other_instance = app.another_instance().await;
    let mut lead2 = other_instance.sign_in("lead").await;
    let policy =
        lead2.fund.get_programme_policy(pb::GetProgrammePolicyRequest {}).await.expect("get").into_inner();
    assert!(policy.toml.contains("on_site_day = \"350.00\""), "{}", policy.toml);
    assert_eq!(policy.updated_by, admin.user.id);
    let paid = lead2
        .fund
        .pay_counsel(pay("371502101", "P0002", "on_site_day", "LEDGER-2026-0002", ""))
        .await
        .expect("pay at the new rate")
        .into_inner();
    assert_eq!(paid.payment.expect("payment").amount, "350.00");
    let e = admin
        .fund
        .set_programme_policy(pb::SetProgrammePolicyRequest { toml: "[rates]\nvisit = \"-1\"\n".into() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().starts_with("toml: rates.visit: "), "{}", e.message());
    other_instance.stop().await;
    app.stop().await;
}

async fn refusals_by_role_and_jurisdiction(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut admin = app.sign_in("admin").await;
    allocate(&mut admin, 2026, "26000000.00").await;
    let mut county = app.sign_in("county").await; // 东昌府区
    let mut lead = app.sign_in("lead").await; // 沙镇镇
    let mut counsel = app.sign_in("counsel").await; // 张明, P0001
    let mut dispatcher = app.sign_in("dispatcher").await;

    // Only the city admin allocates.
    for c in [&mut county, &mut lead, &mut dispatcher] {
        let e = c
            .fund
            .allocate_fund(pb::AllocateFundRequest {
                year: 2027,
                amount: "1.00".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    }

    // Each sees their own accounts.
    let units = |r: pb::ListAccountsResponse| r.accounts.into_iter().map(|a| a.unit_id).collect::<Vec<_>>();
    assert_eq!(units(accounts(&mut county).await), ["371502", "371502101", "371502102"]);
    assert_eq!(units(accounts(&mut lead).await), ["371502101"]);
    let lead_year =
        lead.fund.get_fund_year(pb::GetFundYearRequest { year: 2026 }).await.expect("year").into_inner();
    assert_eq!(lead_year.credits.len(), 1);
    assert_eq!(lead_year.credits[0].amount, "2228571.43");
    // A lead naming their county sees their township's account; the other county is refused.
    let narrowed = lead
        .fund
        .list_accounts(pb::ListAccountsRequest { unit_id: "371502".into() })
        .await
        .expect("narrowed");
    assert_eq!(units(narrowed.into_inner()), ["371502101"]);
    for unit in ["371521", "371521101", "371500", "nowhere"] {
        let e =
            county.fund.list_accounts(pb::ListAccountsRequest { unit_id: unit.into() }).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{unit}");
        let e = county
            .fund
            .get_account_statement(pb::GetAccountStatementRequest {
                unit_id: unit.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{unit}");
    }
    let e = admin
        .fund
        .get_account_statement(pb::GetAccountStatementRequest {
            unit_id: "nowhere".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    // A county manager pays from their county's accounts, not from another's or the
    // city's; a lead from their township's only; a counsel pays nothing.
    county
        .fund
        .pay_counsel(pay("371502", "P0004", "mediation", "GD20260101000001", ""))
        .await
        .expect("from the county's own account");
    county
        .fund
        .pay_counsel(pay("371502102", "P0004", "mediation", "GD20260101000002", ""))
        .await
        .expect("from a township of the county");
    for (c, unit, person) in [
        (&county, "371521101", "P0005"),
        (&county, "371500", "P0001"),
        (&lead, "371502", "P0001"),
        (&lead, "371502102", "P0004"),
        (&counsel, "371502101", "P0001"),
        (&dispatcher, "371502101", "P0001"),
    ] {
        let mut c = c.clone();
        let e = c.fund.pay_counsel(pay(unit, person, "mediation", "GD20260101000003", "")).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{unit}: {e:?}");
    }
    admin
        .fund
        .pay_counsel(pay("371500", "P0005", "mediation", "GD20260101000004", ""))
        .await
        .expect("the city's account pays anyone who serves");

    // A counsel sees their own payments; a lead their township's; a county its own.
    lead.fund.pay_counsel(pay("371502101", "P0001", "mediation", "GD20260101000005", "")).await.expect("pay");
    lead.fund.pay_counsel(pay("371502101", "P0002", "mediation", "GD20260101000006", "")).await.expect("pay");
    let list = |c: &mut Clients, req: pb::ListPaymentsRequest| {
        let mut c = c.clone();
        async move { c.fund.list_payments(req).await }
    };
    let mine = list(&mut counsel, pb::ListPaymentsRequest::default()).await.expect("mine").into_inner();
    assert_eq!(
        mine.payments.iter().map(|p| p.service_ref.as_str()).collect::<Vec<_>>(),
        ["GD20260101000005"]
    );
    let e = list(&mut counsel, pb::ListPaymentsRequest { person_id: "P0002".into(), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    let township = list(&mut lead, pb::ListPaymentsRequest::default()).await.expect("lead").into_inner();
    assert_eq!(township.payments.len(), 2);
    let own_county =
        list(&mut county, pb::ListPaymentsRequest::default()).await.expect("county").into_inner();
    assert_eq!(own_county.payments.len(), 4);
    let all = list(&mut admin, pb::ListPaymentsRequest::default()).await.expect("admin").into_inner();
    assert_eq!(all.payments.len(), 5);
    let e =
        list(&mut lead, pb::ListPaymentsRequest { account_unit_id: "371502".into(), ..Default::default() })
            .await
            .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    app.stop().await;
}
