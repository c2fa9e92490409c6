"""Step 5 练习：亲手实现 DPO。

把每个 TODO 里的 ``raise NotImplementedError(...)`` 换成你自己的实现，保存，再运行检查。

TODO 1–5 是必做的，顺序就是 DPO 训练一步的数据流：

    偏好数据 ──TODO 3──▶ 一个 batch（chosen 在前，rejected 在后）
            ──模型前向──▶ logits
            ──TODO 2──▶ 每条回答的序列 log 概率
            ──TODO 1──▶ DPO 损失        ──TODO 4──▶ 隐式奖励指标
            ──TODO 5──▶ 反向传播 + 更新参数

TODO 6、7 是选做的（加分，不做不扣分）：TODO 6 把 TODO 1 推广成 DPO 的几种“亲戚”（robust、hinge、IPO、
按长度归一化），第 6 课的实验用它；TODO 7 是奖励模型的损失，第 5 课的比较实验用它。

写完一个 TODO，就在这个文件所在的文件夹里运行检查：
    python train_dpo_exercise.py          # 检查全部
    step5-rlhf check 1                    # 只检查 TODO 1

关于 dtype：浮点结果用 float32 或 float64 都可以（与输入相同，或像 TRL 那样先转成 float32 计算），
检查按两者中较低的精度比较；不要降到 float16 / bfloat16。
"""

import torch
import torch.nn.functional as F


# ---------------------------------------------------------------------------
# TODO 1: DPO 损失
# ---------------------------------------------------------------------------
def dpo_loss(
    policy_chosen_log_probs,
    policy_rejected_log_probs,
    ref_chosen_log_probs,
    ref_rejected_log_probs,
    beta=0.1,
):
    """TODO 1：计算 DPO 损失（整个 batch 的平均值，一个标量）。

    公式：
        L = -log σ( β · [ (log π(y_w|x) - log π(y_l|x)) - (log π_ref(y_w|x) - log π_ref(y_l|x)) ] )

    参数（都是形状 [B] 的张量，每个元素是一条回答的“序列 log 概率”之和）：
        policy_chosen_log_probs:   策略模型对 chosen（偏好数据里被选中的回答）的 log π(y_w|x)
        policy_rejected_log_probs: 策略模型对 rejected（落选的回答）的 log π(y_l|x)
        ref_chosen_log_probs:      参考模型（冻结）对 chosen 的 log π_ref(y_w|x)
        ref_rejected_log_probs:    参考模型（冻结）对 rejected 的 log π_ref(y_l|x)
        beta:                      β：第 2 课 RLHF 目标里 KL 惩罚的系数。在这个损失里，它决定相对改进
                                   （下面步骤 3 的 logits，两个 log ratio 之差）要多大才算“够了”：损失只看
                                   β·logits，β 越小，降到同样的损失需要越大的间隔。它是一个软的尺度，
                                   不是偏离参考模型的上限（第 3 课）

    返回：
        标量张量（0 维），即 batch 内每条样本损失的平均值（float32 或 float64）。

    步骤：
        1. 策略模型的 log ratio：  pi_logratios  = policy_chosen - policy_rejected
        2. 参考模型的 log ratio：  ref_logratios = ref_chosen - ref_rejected
        3. 相对改进：             logits = pi_logratios - ref_logratios
        4. 损失：                 -logsigmoid(beta * logits)，再对 batch 取平均

    提示：
        - 用 F.logsigmoid(x)，不要写 torch.log(torch.sigmoid(x))：
          x 很负时 sigmoid(x) 下溢成 0，log(0) = -inf，训练会出现 inf/NaN。
        - 不要原地修改输入（例如 +=），它们还要用来计算梯度。
    """
    # 在这里写你的代码，写完后删掉下面这行 raise。
    raise NotImplementedError("TODO 1（dpo_loss）还没有完成")


# ---------------------------------------------------------------------------
# TODO 2: 回答部分的序列 log 概率
# ---------------------------------------------------------------------------
def sequence_log_probs(logits, input_ids, loss_mask):
    """TODO 2：求每条序列中“回答部分”的 log 概率之和。

    参数：
        logits:    [B, T, V]，因果语言模型在 input_ids 上前向得到的输出
        input_ids: [B, T]，token id（提示词 + 回答 + 补齐）
        loss_mask: [B, T]，回答 token 处为 1，提示词和补齐处为 0

    返回：
        [B] 浮点张量（float32 或 float64）：
        第 b 个元素 = Σ_{t≥1} loss_mask[b,t] · log_softmax(logits[b,t-1])[input_ids[b,t]]

    为什么要“错一位”？
        因果语言模型在位置 t-1 的输出，预测的是第 t 个 token。
        所以要用 logits[:, :-1] 去给 input_ids[:, 1:] 打分，
        loss_mask 也要相应地取 loss_mask[:, 1:]。

    步骤：
        1. 错一位：logits 取 [:, :-1, :]，标签取 input_ids[:, 1:]，掩码取 loss_mask[:, 1:]
        2. 对最后一维做 log_softmax，得到每个位置上整张词表的 log 概率
        3. 用 torch.gather 取出标签 token 的 log 概率，形状 [B, T-1]
        4. 乘以掩码（提示词和补齐不算），沿时间维求和（是求和，不是平均）

    提示：
        - 用 logits.log_softmax(-1)，不要写 torch.log(torch.softmax(...))：后者会下溢成 -inf。
        - 掩码可能是整数或布尔类型，相乘前先转成 logits 的浮点类型。
    """
    # 在这里写你的代码，写完后删掉下面这行 raise。
    raise NotImplementedError("TODO 2（sequence_log_probs）还没有完成")


# ---------------------------------------------------------------------------
# TODO 3: 把偏好样本拼成一个 batch
# ---------------------------------------------------------------------------
def collate_preference_batch(examples, pad_token_id):
    """TODO 3：把 B 条偏好样本拼成一个 2B 行的 batch。

    参数：
        examples:     长度为 B 的列表，每个元素是字典：
                      {"prompt_ids": [...], "chosen_ids": [...], "rejected_ids": [...]}（token id 列表）
        pad_token_id: 补齐用的 token id

    返回：字典，三个形状都是 [2B, T] 的整数张量（T = 这批中最长的 提示词+回答 长度）：
        "input_ids":      第 0..B-1 行是 提示词+chosen，第 B..2B-1 行是 提示词+rejected，右侧用 pad_token_id 补齐
        "attention_mask": 真实 token 处为 1，补齐处为 0
        "loss_mask":      只有回答 token 处为 1；提示词和补齐处为 0

    为什么 chosen 和 rejected 放在同一个 batch？
        这样模型只需前向一次就能同时得到两种回答的 log 概率（TODO 5 会用到）。

    先自己设计怎么做；卡住了再看第 4 课讲义里可以展开的“提示”。
    """
    # 在这里写你的代码，写完后删掉下面这行 raise。
    raise NotImplementedError("TODO 3（collate_preference_batch）还没有完成")


# ---------------------------------------------------------------------------
# TODO 4: 隐式奖励指标（与 TRL 的 DPOTrainer 同名）
# ---------------------------------------------------------------------------
def dpo_metrics(
    policy_chosen_log_probs,
    policy_rejected_log_probs,
    ref_chosen_log_probs,
    ref_rejected_log_probs,
    beta=0.1,
):
    """TODO 4：计算 DPO 的“隐式奖励”指标，名字与 TRL 的 DPOTrainer 一致。

    DPO 里，策略模型自带一个隐式奖励：r(x, y) = β · (log π(y|x) - log π_ref(y|x))。

    参数：同 TODO 1（四个 [B] 张量和 β）。

    返回：字典，值都是 Python float，计算时不需要梯度：
        "rewards/chosen":     β·(policy_chosen - ref_chosen) 的 batch 平均
        "rewards/rejected":   β·(policy_rejected - ref_rejected) 的 batch 平均
        "rewards/margins":    (chosen 奖励 - rejected 奖励) 的 batch 平均
        "rewards/accuracies": chosen 奖励 严格大于 rejected 奖励 的样本比例（相等不算对）

    卡住了再看第 4 课讲义里可以展开的“提示”。
    """
    # 在这里写你的代码，写完后删掉下面这行 raise。
    raise NotImplementedError("TODO 4（dpo_metrics）还没有完成")


# ---------------------------------------------------------------------------
# TODO 5: 一步 DPO 训练
# ---------------------------------------------------------------------------
def dpo_train_step(policy, batch, ref_chosen_log_probs, ref_rejected_log_probs, optimizer, beta=0.1):
    """TODO 5：做一步 DPO 优化，把前四个 TODO 串起来。

    参数：
        policy:                 策略模型（因果语言模型），policy(input_ids=..., attention_mask=...).logits 是 [2B, T, V]
        batch:                  TODO 3 的输出：input_ids / attention_mask / loss_mask，都是 [2B, T]
        ref_chosen_log_probs:   [B]，参考模型对 chosen 的序列 log 概率（训练前算好，不需要梯度）
        ref_rejected_log_probs: [B]，参考模型对 rejected 的序列 log 概率
        optimizer:              优化器（例如 AdamW）
        beta:                   β，原样传给 TODO 1 和 TODO 4（含义见 TODO 1）

    返回：字典 {"loss": float, 以及 TODO 4 的四个指标}

    要求：
        - 整个 2B batch 只前向一次（不要对 chosen 和 rejected 分别前向两次——一次前向更快，也是 TRL 的做法）；
        - 用你的 TODO 2、TODO 1、TODO 4，做一步完整的优化（清梯度、反向传播、更新参数）；
        - 每一步恰好调用一次 dpo_loss（TODO 1）来得到损失，不要把损失公式直接写在这里：
          检查器会把 dpo_loss 换成它自己的替身函数，单独检查 TODO 5 的连接；`--loss-type` 训练时，
          训练循环也是把这一次 dpo_loss 调用换成你的选做 TODO 6（training/dpo.py 的 LossSwap）。
          公式写在这里、或调用不止一次，这种替换就不起作用，`--loss-type` 训练会停下并给出一行中文说明；
        - 不要在这里裁剪梯度或调整学习率：训练循环会在 optimizer.step() 之前自动裁剪。
    卡住了再看第 4 课讲义里可以展开的“提示”。
    """
    # 在这里写你的代码，写完后删掉下面这行 raise。
    raise NotImplementedError("TODO 5（dpo_train_step）还没有完成")


# ---------------------------------------------------------------------------
# 选做 TODO 6：DPO 的几种“亲戚”（名字与 TRL 的 DPOTrainer 的 loss_type 一致）
# ---------------------------------------------------------------------------
LOSS_TYPES = ("sigmoid", "robust", "hinge", "ipo", "sigmoid_norm")


def preference_loss(
    policy_chosen_log_probs,
    policy_rejected_log_probs,
    ref_chosen_log_probs,
    ref_rejected_log_probs,
    beta=0.1,
    loss_type="sigmoid",
    label_smoothing=0.0,
    chosen_lengths=None,
    rejected_lengths=None,
):
    """选做 TODO 6：按 loss_type 计算偏好损失（batch 平均，一个标量），与 TRL 1.16 的 DPOTrainer 相同。

    前四个参数和 beta 同 TODO 1。记 chosen 的 log ratio  c = policy_chosen − ref_chosen，
    rejected 的 log ratio  r = policy_rejected − ref_rejected，z = c − r（TODO 1 里的“相对改进”）。

        "sigmoid"       −log σ(β·z)                                   就是 TODO 1 的 DPO
        "robust"        [−(1−ε)·log σ(β·z) + ε·log σ(−β·z)] / (1−2ε)  ε = label_smoothing：
                        假设每条标注以概率 ε 被标反时的无偏估计（Chowdhury et al., 2024）
        "hinge"         max(0, 1 − β·z)                               合页损失（思路来自 SLiC；SLiC-HF 原文不减参考模型、
                                                                      另加监督损失，这里同 TRL 减去参考模型）
        "ipo"           (z̄ − 1/(2β))²                                 IPO（Azar et al., 2023）
        "sigmoid_norm"  −log σ(β·z̄)                                   按长度归一化的 DPO（Tülu 3 的做法；
                                                                      不是 SimPO：SimPO 没有参考模型，另有间隔 γ）

    其中 z̄ = c / chosen_lengths − r / rejected_lengths：先把两条回答的 log ratio 各自除以它的 token 数
    （每个 token 的平均），再相减。chosen_lengths / rejected_lengths 是形状 [B] 的张量：每条回答参与求和的
    token 数（TODO 2 的掩码里 1 的个数）。只有 "ipo" 和 "sigmoid_norm" 用到它们，其余类型忽略；
    label_smoothing 只有 "robust" 用到。

    其他 loss_type：抛出 ValueError（拼错的类型不能悄悄当成别的损失；返回结果或抛别的异常都不对）。
    消息最好用中文写明收到的值和全部可选的类型，拼错的人一眼就知道怎么改（检查会提醒，但不扣分）。

    提示：和 TODO 1 一样用 F.logsigmoid；β 乘在哪里、除以长度在相减之前还是之后，对照上面的公式。
    卡住了再看第 6 课讲义里可以展开的“提示”。
    """
    # 在这里写你的代码，写完后删掉下面这行 raise。
    raise NotImplementedError("TODO 6（preference_loss）还没有完成")


# ---------------------------------------------------------------------------
# 选做 TODO 7：奖励模型的损失（与 TRL 的 RewardTrainer 相同）
# ---------------------------------------------------------------------------
def reward_model_loss(chosen_rewards, rejected_rewards, margin=None):
    """选做 TODO 7：奖励模型的 Bradley–Terry 损失（batch 平均，一个标量）。

    参数：
        chosen_rewards:   [B]，奖励模型给 chosen 的分数 r(x, y_w)
        rejected_rewards: [B]，奖励模型给 rejected 的分数 r(x, y_l)
        margin:           None，或 [B]：要求 chosen 至少高出这么多（Llama 2 的做法；None 表示 0）

    返回：
        mean( −log σ( r_chosen − r_rejected − margin ) )

    第 1 课的 Bradley–Terry 模型说 P(y_w ≻ y_l) = σ(r_w − r_l)；这个损失就是它的负对数似然。
    第 5 课 `step5-rlhf compare` 训练奖励模型时用的就是你的这个函数。
    """
    # 在这里写你的代码，写完后删掉下面这行 raise。
    raise NotImplementedError("TODO 7（reward_model_loss）还没有完成")


# ---------------------------------------------------------------------------
# 自我检查：notebook 里 importlib.reload 之后调用，或直接运行本文件
# ---------------------------------------------------------------------------
# 检查器在单独的子进程里运行本文件保存在磁盘上的代码，再和预先算好的正确结果比较；
# 所以要先保存文件，再运行检查。检查函数从不抛异常：返回一张结果表（notebook 里显示成表格），
# 全部通过时为真。


def _check(*todos):
    from step5_rlhf.notebook_support import check_exercise

    return check_exercise(__file__, todos)


def test_dpo_loss():
    """检查 TODO 1（dpo_loss）。"""
    return _check("dpo_loss")


def test_sequence_log_probs():
    """检查 TODO 2（sequence_log_probs）。"""
    return _check("sequence_log_probs")


def test_collate_preference_batch():
    """检查 TODO 3（collate_preference_batch）。"""
    return _check("collate_preference_batch")


def test_dpo_metrics():
    """检查 TODO 4（dpo_metrics）。"""
    return _check("dpo_metrics")


def test_dpo_train_step():
    """检查 TODO 5（dpo_train_step）。"""
    return _check("dpo_train_step")


def test_preference_loss():
    """检查选做 TODO 6（preference_loss）。"""
    return _check("preference_loss")


def test_reward_model_loss():
    """检查选做 TODO 7（reward_model_loss）。"""
    return _check("reward_model_loss")


def run_all_checks():
    """一次检查全部 TODO（选做的 TODO 6、7 没做不算错）。"""
    return _check()


if __name__ == "__main__":
    import sys

    report = run_all_checks()
    print(report)
    sys.exit(0 if report else 1)
