//! Category suggestion over gRPC: suggestions while the agent types, suggestions
//! recorded with each call, learning from confirmed classifications, and that learning
//! surviving a restart.

use hotline_proto::v1 as pb;
use hotline_tests::{Backend, TestApp, on_both_backends, sample_call};
use tonic::Code;

on_both_backends!(suggestions_learn_and_survive_a_restart);

/// A phrase the shipped corpus has never seen, to teach.
const NOVEL: &str = "无人机喷药飘到了承包的藕塘里";

async fn top(clients: &mut hotline_tests::Clients, summary: &str) -> (i32, u64) {
    let s = clients
        .calls
        .suggest_category(pb::SuggestCategoryRequest { summary: summary.into() })
        .await
        .expect("suggest")
        .into_inner();
    (s.categories[0].category, s.examples_learned)
}

async fn suggestions_learn_and_survive_a_restart(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut agent = app.sign_in("agent").await;

    // A clear case, with the words that drove it.
    let s = agent
        .calls
        .suggest_category(pb::SuggestCategoryRequest { summary: "老板欠了三个月工资不给".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.categories.len(), 4);
    assert_eq!(s.subcategories.len(), 11);
    assert_eq!(s.subcategories[0].subcategory, pb::Subcategory::LabourWages as i32);
    assert!(!s.cue_words.is_empty());
    let total: f64 = s.categories.iter().map(|c| c.score).sum();
    assert!((total - 1.0).abs() < 1e-6, "scores are probabilities: {total}");
    assert!(s.examples_learned >= 600, "the shipped corpus is learned");
    // Empty text still answers (with how often each category occurs).
    let empty =
        agent.calls.suggest_category(pb::SuggestCategoryRequest { summary: String::new() }).await.unwrap();
    assert_eq!(empty.into_inner().categories.len(), 4);

    // Teach a category the model would not have guessed for the novel phrase.
    let (before, learned_before) = top(&mut agent, NOVEL).await;
    let target = if before == pb::Category::LegalEducation as i32 {
        pb::Category::Mediation
    } else {
        pb::Category::LegalEducation
    };
    let mut recorded = Vec::new();
    for i in 0..8 {
        let mut call = sample_call(&format!("teach-{i}"));
        call.summary = format!("{NOVEL}，第{i}次来电");
        call.category = target as i32;
        call.subcategory = pb::Subcategory::Other as i32;
        let c = agent.calls.record_call(call).await.unwrap().into_inner();
        assert_ne!(c.suggested_category, 0, "the suggestion is recorded with the call");
        recorded.push(c);
        if top(&mut agent, NOVEL).await.0 == target as i32 {
            break;
        }
    }
    let (after, learned_after) = top(&mut agent, NOVEL).await;
    assert_eq!(after, target as i32, "confirmed classifications change later suggestions");
    assert_eq!(learned_after, learned_before + recorded.len() as u64);
    // A retried call is not learned twice.
    let mut retry = sample_call("teach-0");
    retry.summary = format!("{NOVEL}，第0次来电");
    retry.category = target as i32;
    retry.subcategory = pb::Subcategory::Other as i32;
    agent.calls.record_call(retry).await.unwrap();
    assert_eq!(top(&mut agent, NOVEL).await.1, learned_after);

    // How often the agents accepted: the first call's suggestion was not the target.
    let mut dispatcher = app.sign_in("dispatcher").await;
    let stats = dispatcher
        .calls
        .get_suggestion_stats(pb::GetSuggestionStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stats.calls, recorded.len() as u64);
    let accepted = recorded.iter().filter(|c| c.suggested_category == c.category).count() as u64;
    assert_eq!(stats.category_accepted, accepted);
    assert!(stats.category_accepted < stats.calls);
    assert_eq!(recorded[0].suggested_category, before);
    assert!((stats.category_acceptance_rate - accepted as f64 / stats.calls as f64).abs() < 1e-9);

    // County managers see their own county; counsel see none of it.
    let mut county = app.sign_in("county").await;
    let own = county
        .calls
        .get_suggestion_stats(pb::GetSuggestionStatsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.calls, stats.calls, "the demo village is in the manager's county");
    let other = pb::GetSuggestionStatsRequest { county_id: "371521".into(), ..Default::default() };
    assert_eq!(county.calls.get_suggestion_stats(other).await.unwrap_err().code(), Code::PermissionDenied);
    let mut counsel = app.sign_in("counsel").await;
    assert_eq!(
        counsel
            .calls
            .get_suggestion_stats(pb::GetSuggestionStatsRequest::default())
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(
        counsel
            .calls
            .suggest_category(pb::SuggestCategoryRequest { summary: NOVEL.into() })
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );

    // After a restart the model has learned the same examples and suggests the same.
    let app = app.restart().await;
    let mut agent = app.sign_in("agent").await;
    assert_eq!(top(&mut agent, NOVEL).await, (target as i32, learned_after));
    app.stop().await;
}
