//! Escalation along the fallback chain: where an order goes when the unit it was sent to
//! did not sign it off in time.
//!
//! The order moves to the next step after the one its current target holds: a village
//! counsel's order goes to the township team member with the fewest open orders, a team
//! member's to the station lead, a station lead's to the county command centre. An order
//! held by someone who is not on the village's chain (a dispatcher's own choice) goes to
//! the station lead. Along the way the current assignee and every unavailable person are
//! passed over, as in routing; the county centre always takes the order in the end. An
//! order already at the county has nowhere further to go.

use super::{RoutingIndex, SkipReason, Skipped, StatusSource, Step, UnknownVillage};
use crate::order::Target;
use serde::{Deserialize, Serialize};

/// Where an escalation sends an order, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub target: Target,
    /// The chain step the order's current target holds; `None` when the target is not
    /// on the village's chain.
    pub from_step: Option<Step>,
    /// The step that gave the new target.
    pub step: Step,
    /// Everyone passed over, in the order they were tried.
    pub skipped: Vec<Skipped>,
    /// The county institution, when the new target is the county centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution_id: Option<String>,
}

impl RoutingIndex {
    /// The chain step `target` holds for an order from this village, if any.
    pub fn step_of(&self, village_id: &str, target: &Target) -> Result<Option<Step>, UnknownVillage> {
        let (v, t, c) = self.village(village_id)?;
        let Some(assignee) = &target.assignee_id else {
            return Ok((target.unit_id == c.id).then_some(Step::CountyCentre));
        };
        let Some(ix) = self.people.iter().position(|p| p == assignee).map(|i| i as u32) else {
            return Ok(None);
        };
        let step = if target.unit_id == village_id && v.counsel.contains(&ix) {
            Some(Step::VillageCounsel)
        } else if t.leads.contains(&ix) {
            Some(Step::StationLead)
        } else if t.members.contains(&ix) {
            Some(Step::TeamMember)
        } else if v.counsel.contains(&ix) {
            Some(Step::VillageCounsel)
        } else {
            None
        };
        Ok(step)
    }

    /// Where an order from this village, now with `current`, goes when it was not signed
    /// off in time; `None` when it is already at the county.
    pub fn escalate(
        &self,
        village_id: &str,
        current: &Target,
        status: &dyn StatusSource,
    ) -> Result<Option<Escalation>, UnknownVillage> {
        let from_step = self.step_of(village_id, current)?;
        let chain: &[Step] = match from_step {
            Some(Step::VillageCounsel) => &[Step::TeamMember, Step::StationLead, Step::CountyCentre],
            Some(Step::TeamMember) => &[Step::StationLead, Step::CountyCentre],
            Some(Step::StationLead) => &[Step::CountyCentre],
            // Off the chain: the station lead first.
            None => &[Step::StationLead, Step::CountyCentre],
            Some(Step::CountyCentre) | Some(Step::LegalAidCentre) => return Ok(None),
        };
        let (_, t, c) = self.village(village_id)?;
        let mut skipped: Vec<Skipped> = Vec::new();
        for &step in chain {
            let people: &[u32] = match step {
                Step::TeamMember => &t.members,
                Step::StationLead => &t.leads,
                _ => {
                    return Ok(Some(Escalation {
                        target: Target { unit_id: c.id.clone(), assignee_id: None },
                        from_step,
                        step: Step::CountyCentre,
                        skipped,
                        institution_id: c.command_centre.clone(),
                    }));
                }
            };
            let mut best: Option<(u32, i64)> = None;
            for &p in people {
                let id = &self.people[p as usize];
                if current.assignee_id.as_ref() == Some(id) || skipped.iter().any(|s| &s.person_id == id) {
                    continue;
                }
                match status.status(id) {
                    Some(s) => match s.unavailable() {
                        None => {
                            if best.is_none_or(|(_, open)| s.open_orders < open) {
                                best = Some((p, s.open_orders));
                            }
                        }
                        Some(why) => skipped.push(Skipped { person_id: id.clone(), step, why }),
                    },
                    None => skipped.push(Skipped { person_id: id.clone(), step, why: SkipReason::Unknown }),
                }
            }
            if let Some((p, _)) = best {
                return Ok(Some(Escalation {
                    target: Target {
                        unit_id: t.id.clone(),
                        assignee_id: Some(self.people[p as usize].clone()),
                    },
                    from_step,
                    step,
                    skipped,
                    institution_id: None,
                }));
            }
        }
        unreachable!("every escalation chain ends at the county centre")
    }
}
