"""生成课程用的中文偏好数据：data/train.jsonl 与 data/eval.jsonl。

    python -m step5_rlhf.training.make_data        # 每次生成的文件逐字节相同

每条样本是 TRL 的标准偏好格式 {"prompt", "chosen", "rejected"}。
好回答（chosen）礼貌、完整：复述主题、给出解释、以“。”结尾；
差回答（rejected）各有毛病：敷衍、太短、没收尾、答非所问，而且都不复述主题。
judge.py 里的规则裁判对每一条标注都同意（测试会检查）。
评估集的提示词（主题 × 问法的组合）在训练集里一条也没有出现过。
"""

import json
import random
from pathlib import Path

from .. import paths
from .judge import explain

SEED = 20240501
N_EVAL = 160

# field -> (what kind of thing it is, what it is used for, the topics)
FIELDS = {
    "计算机科学": ("技术", "让计算机更好地处理信息", [
        "机器学习", "深度学习", "神经网络", "操作系统", "数据库", "编译器", "算法", "云计算",
        "区块链", "搜索引擎", "人工智能", "大语言模型", "强化学习", "计算机视觉", "自然语言处理", "防火墙",
    ]),
    "生物学": ("现象", "理解生命是怎样运转的", [
        "光合作用", "细胞分裂", "基因突变", "免疫系统", "新陈代谢", "自然选择", "生态系统", "食物链",
        "蛋白质", "线粒体", "细胞膜", "遗传密码",
    ]),
    "物理学": ("规律", "解释物体为什么这样运动", [
        "万有引力", "相对论", "量子力学", "电磁感应", "热力学", "惯性", "光的折射", "超导",
        "摩擦力", "能量守恒", "声波", "半导体",
    ]),
    "化学": ("反应", "认识物质怎样变化", [
        "氧化反应", "化学键", "催化剂", "酸碱中和", "元素周期表", "有机物", "电解", "同位素",
        "溶解度", "高分子",
    ]),
    "经济学": ("理论", "分析市场和资源的分配", [
        "通货膨胀", "供求关系", "边际效用", "机会成本", "国内生产总值", "利率", "汇率", "税收",
        "股票", "保险", "复利", "市场经济",
    ]),
    "地理学": ("现象", "了解地球表面的变化", [
        "季风", "板块运动", "地震", "火山", "冰川", "洋流", "沙漠化", "经纬度", "时区", "温室效应",
    ]),
    "数学": ("方法", "把复杂的问题算清楚", [
        "微积分", "概率论", "线性代数", "勾股定理", "质数", "函数", "统计学", "矩阵", "对数", "几何",
    ]),
    "心理学": ("理论", "理解人的想法和行为", [
        "条件反射", "认知失调", "短期记忆", "情绪管理", "心流", "拖延症", "从众心理", "安慰剂效应",
    ]),
    "文学": ("手法", "让文章表达得更生动", [
        "比喻", "拟人", "排比", "唐诗", "宋词", "散文", "小说", "对联",
    ]),
    "健康": ("习惯", "保持身体健康", [
        "有氧运动", "均衡饮食", "睡眠周期", "维生素", "体检", "疫苗", "肥胖", "近视",
    ]),
}

PROMPTS = [
    "什么是{t}？", "请介绍一下{t}。", "{t}是什么意思？", "能解释一下{t}吗？", "{t}有什么用？",
    "请简单说说{t}。", "我想了解{t}，能讲讲吗？", "{t}是做什么的？", "给我讲讲{t}吧。", "你知道{t}吗？",
]

CHOSEN = [
    "{t}是{f}中的一个重要{k}，它可以帮助我们{u}。",
    "简单来说，{t}指的是{f}里的一种{k}，常用来{u}。",
    "{t}是{f}领域的基础知识，学习它可以帮助我们{u}。",
    "好问题！{t}属于{f}，是一种{k}，人们用它来{u}。",
]

# Rejected answers never repeat the topic: DPO pushes their tokens down, and pushing down
# the copied topic would also teach the model to stop copying it into good answers.
REJECTED = [
    "不知道，你自己查吧。",                          # dismissive, off topic
    "那就是一种{k}。",                               # too short
    "就是{f}里的东西而已。",                         # dismissive
    "这个嘛，{f}里面的一种{k}，以后再说吧",           # no ending punctuation
    "这个问题太复杂了，一两句话说不清楚，建议多看书。",  # does not restate the topic
    "随便吧，这个没什么好说的。",                     # dismissive
    "这是{f}的内容，你自己查一下就明白了。",           # dismissive, off topic
]


def _pairs():
    combos = [
        (template, topic, field)
        for field, (_, _, topics) in FIELDS.items()
        for topic in topics
        for template in PROMPTS
    ]
    rng = random.Random(SEED)
    rng.shuffle(combos)
    rows = []
    for template, topic, field in combos:
        kind, use, _ = FIELDS[field]
        fill = {"t": topic, "f": field, "k": kind, "u": use}
        rows.append({
            "prompt": template.format(**fill),
            "chosen": rng.choice(CHOSEN).format(**fill),
            "rejected": rng.choice(REJECTED).format(**fill),
        })
    return rows


def _check(rows):
    for row in rows:
        assert not explain(row["prompt"], row["chosen"]), (row, explain(row["prompt"], row["chosen"]))
        assert explain(row["prompt"], row["rejected"]), row


def _write(path: Path, rows) -> None:
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    path.write_text(text, encoding="utf-8", newline="\n")


def main(out_dir: Path = paths.DATA_DIR) -> None:
    rows = _pairs()
    _check(rows)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / "eval.jsonl", rows[:N_EVAL])
    _write(out_dir / "train.jsonl", rows[N_EVAL:])
    print(f"已写入 {out_dir / 'train.jsonl'}（{len(rows) - N_EVAL} 对）和 {out_dir / 'eval.jsonl'}（{N_EVAL} 对）")


if __name__ == "__main__":
    main()
