//! A small hand-written lexicon of concept cues.
//!
//! Character n-grams learn surface forms one at a time; a caller who says "请不起律师"
//! and one who says "打不起官司" mean the same thing but share no n-gram. Each group
//! below pools such forms into one extra feature (`#name`), so evidence seen for one
//! form helps all of them. The lexicon does **not** say which class a cue belongs to:
//! the model learns that from the labelled calls like any other feature, which keeps
//! the cues honest (a cue that misleads simply gets no weight) and lets confirmed
//! classifications from the centre re-weight them.
//!
//! Patterns are written already normalised (half-width, lowercase, no punctuation).
//! The groups come from the hotline's domain (DOMAIN.md and common 12348 practice),
//! not from the evaluation split.

use std::collections::HashMap;
use std::sync::LazyLock;

/// One concept: a feature key and the surface forms that signal it. Keys of intent
/// cues start with `#i_`, keys of topic cues with `#t_`.
pub(crate) struct CueGroup {
    /// Feature key; starts with `#`, which normalised text never contains.
    pub key: &'static str,
    /// Surface forms separated by spaces (normalised text never contains a space
    /// inside a segment, so no pattern can).
    pub patterns: &'static str,
}

/// The concept groups. Intent cues (what the caller wants) come first: they decide
/// the category. Topic cues decide the subcategory.
pub(crate) const GROUPS: &[CueGroup] = &[
    // --- intent: legal aid ---
    CueGroup {
        key: "#i_aid_request",
        patterns: "法律援助 援助 援助律师 免费律师 免费的律师 免费请律师 指派律师 派律师 \
                   派个律师 给派律师 指派辩护 值班律师 援助中心",
    },
    CueGroup {
        key: "#i_cannot_afford",
        patterns: "请不起 请不起律师 没钱请律师 没钱打官司 打不起官司 没钱 无力支付 无力聘请 \
                   无力负担 无力委托 拿不出钱 付不起 一个钱也没有 交不起",
    },
    CueGroup {
        key: "#i_hardship",
        patterns: "低保 低保户 五保 五保户 特困 贫困户 建档立卡 困难 经济困难 家庭困难 \
                   家里困难 家里穷 家穷 无收入 无固定收入 无经济来源 无劳动能力 孤儿寡母 \
                   单亲",
    },
    CueGroup {
        key: "#i_disability", patterns: "残疾 残疾人 聋哑 盲人 智力残疾 精神残疾 瘫痪 植物人 重度"
    },
    CueGroup {
        key: "#i_migrant_wages", patterns: "农民工 讨薪 欠薪 追索劳动报酬 务工人员 老乡 工友"
    },
    // --- intent: mediation ---
    CueGroup {
        key: "#i_mediate_request",
        patterns: "调解 调处 协调 说和 调一调 调调 评评理 评理 做做工作 做工作 主持公道 \
                   劝劝 出面 介入 调解员 调委会 调解委员会 人民调解 调和 给个说法 来人 \
                   派人 上门 说说",
    },
    CueGroup {
        key: "#i_deadlock",
        patterns: "谈不拢 协商不成 协商无果 协商未果 沟通无效 说不通 说不听 不听 吵起来 \
                   吵翻 吵架 争吵 闹矛盾 闹别扭 打起来 发生纠纷 发生争议 有争议 有分歧 \
                   争执 矛盾",
    },
    CueGroup {
        key: "#i_other_party", patterns: "双方 两家 两户 对方 俩家 被申请人 本村 同村"
    },
    // --- intent: legal education ---
    CueGroup {
        key: "#i_education",
        patterns: "讲座 培训 普法 宣传 宣讲 进校园 法治课 讲讲 讲一讲 授课 上课 讲课 \
                   法治教育 送法 明白纸 展板 宣传品 法律知识 学习 法治宣传 法律课堂 开展",
    },
    CueGroup {
        key: "#i_audience",
        patterns: "学校 小学 中学 高中 大学 幼儿园 学生 师生 老师 校长 村民 群众 老百姓 \
                   居民 员工 职工 村干部 敬老院 养老院 社区 妇联 工会 企业",
    },
    // --- intent: consultation ---
    CueGroup {
        key: "#i_question",
        patterns: "咨询 询问 问一下 问问 问下 吗 咋办 咋弄 咋整 怎么办 怎么 如何 能不能 \
                   能否 是否 合法吗 算不算 有没有 多少 啥 咋 对吗 有效吗 找谁",
    },
    // --- topics ---
    CueGroup {
        key: "#t_other",
        patterns: "医疗 医院 卫生院 诊所 手术 狗咬 咬伤 公证 律师事务所 名誉 侵权 隐私 \
                   个人信息 见义勇为 失信 立案 学校 景区 收费标准",
    },
    CueGroup {
        key: "#t_marriage",
        patterns: "离婚 结婚 彩礼 抚养 抚养费 抚养权 探望 赡养 家暴 家庭暴力 老公 丈夫 \
                   妻子 媳妇 前夫 前妻 婚姻 夫妻 婆婆 儿媳 收养 重婚 分居 两口子 老两口",
    },
    CueGroup {
        key: "#t_inheritance", patterns: "遗产 继承 遗嘱 去世 过世 老宅 遗留 抚恤金 留下 走了"
    },
    CueGroup {
        key: "#t_labour",
        patterns: "工资 工钱 工伤 老板 包工头 劳动 仲裁 社保 辞退 加班 打工 干活 劳务 \
                   工地 厂里 用工 雇主 务工 上班 工厂",
    },
    CueGroup {
        key: "#t_land",
        patterns: "承包地 土地 宅基地 征地 流转 耕地 地界 地边 确权 占地 拆迁 补偿款 \
                   村集体 机动地 果园 鱼塘 大棚 地头 分地 的地",
    },
    CueGroup {
        key: "#t_neighbour",
        patterns: "邻居 隔壁 楼上 楼下 邻里 胡同 采光 挡光 漏水 排水 噪音 滴水 院墙 \
                   通行 对门",
    },
    CueGroup {
        key: "#t_debt",
        patterns: "借钱 借款 借条 欠条 欠款 担保 合同 租金 押金 定金 合伙 货款 网贷 \
                   信用卡 利息 贷款 还钱 不还 借了 欠钱",
    },
    CueGroup {
        key: "#t_traffic",
        patterns: "车祸 交通事故 撞 交警 肇事 交强险 追尾 电动车 三轮车 摩托车 货车 轿车 \
                   驾驶 司机",
    },
    CueGroup {
        key: "#t_consumer",
        patterns: "买的 购买 商家 退货 假货 三倍 十倍 消费 办卡 保健品 退款 网购 直播间 \
                   种子 化肥 农药 店里 超市 不给退 商场 店家 退换 质量 三无 预付卡 美容 \
                   外卖 快递 旅游 开发商 驾校 培训机构 农资 家电 充值 过期",
    },
    CueGroup {
        key: "#t_criminal",
        patterns: "诈骗 骗 刑拘 刑事 判刑 逮捕 取保候审 报警 犯罪 盗窃 偷 故意伤害 辩护 \
                   涉嫌 立案 赌博 毒 被抓 防骗 反诈 刑 罪 羁押 犯事 醉驾 嫌疑人 被害人 \
                   被告人 缓刑 轻伤 重伤 防卫 敲诈 非法集资",
    },
    CueGroup {
        key: "#t_administrative",
        patterns: "行政复议 行政诉讼 复议 罚款 处罚 政府 城管 执法 信息公开 国家赔偿 \
                   不作为 民政 社保局 户口 身份证 审批 派出所不给 行政 低保资格 评低保 \
                   补贴 补助 医保 养老保险 驾照 扣分 登记 营业执照 信访 政审 听证 \
                   依法行政",
    },
];

/// Surface form -> group key, for lookup of every substring up to [`max_pattern_chars`].
static INDEX: LazyLock<HashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
    let mut index: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
    for group in GROUPS {
        for pattern in group.patterns.split_whitespace() {
            let keys = index.entry(pattern).or_default();
            if !keys.contains(&group.key) {
                keys.push(group.key);
            }
        }
    }
    index
});

static MAX_CHARS: LazyLock<usize> =
    LazyLock::new(|| INDEX.keys().map(|p| p.chars().count()).max().unwrap_or(0));

/// The group keys a normalised surface form belongs to (usually one, possibly none).
pub(crate) fn groups_of(form: &str) -> &'static [&'static str] {
    INDEX.get(form).map_or(&[], Vec::as_slice)
}

/// Whether a feature key is an intent cue (what the caller wants done).
pub(crate) fn is_intent_cue(key: &str) -> bool {
    key.starts_with("#i_")
}

/// The longest pattern, in characters: substrings longer than this cannot match.
pub(crate) fn max_pattern_chars() -> usize {
    *MAX_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    #[test]
    fn patterns_are_already_normalised_and_keys_are_marked() {
        for group in GROUPS {
            assert!(group.key.starts_with('#'), "{}", group.key);
            for p in group.patterns.split_whitespace() {
                assert_eq!(normalize(p).text, p, "pattern {p:?} in {}", group.key);
            }
        }
    }

    #[test]
    fn looks_up_forms() {
        assert_eq!(groups_of("请不起律师"), ["#i_cannot_afford"]);
        assert!(groups_of("律师").is_empty());
        assert!(max_pattern_chars() >= 5);
    }
}
