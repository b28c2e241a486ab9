#!/usr/bin/env python3
"""Writes the small TRL, verl and NeMo-RL run folders that sessions tests import
and follow. Standard library only; the numbers are invented. Run from this
folder, then run the Parquet generator (it writes TRL's completion files with
a Parquet implementation other than the one the workbench reads with):

    python3 make_fixtures.py
    (cd trl-gen && go run .)

and commit trl/, verl/ and nemo-rl/. Each part follows the trainer's own
writer code:

trl/      transformers trainer_callback.py TrainerState.save_to_json:
          json.dumps(dataclasses.asdict(state), indent=2, sort_keys=True) + "\n"
          into checkpoint-N/trainer_state.json at each save; its log_history
          holds the dicts of trl/trainer/grpo_trainer.py GRPOTrainer.log
          (its _metrics averaged, None when every value was NaN, plus the
          Trainer's loss, grad_norm, learning_rate, epoch and step).
          completions/completions_{step:05d}.parquet comes from trl-gen.
verl/     verl/utils/tracking.py FileLogger.log: one line per step,
          orjson.dumps({"step": step, "data": data}) + b"\n", in
          <project>/<experiment>.jsonl (orjson writes NaN as null);
          verl/trainer/ppo/ray_trainer.py _dump_generations: one file per
          step, <rollout_data_dir>/{global_steps}.jsonl, rows
          {"input", "output", "gts", "score", "step", ...reward extras}
          written json.dumps(entry, ensure_ascii=False), joined by newlines.
nemo-rl/  nemo_rl/utils/logger.py Logger.log_batched_dict_as_jsonl called by
          nemo_rl/algorithms/grpo.py as train_data_step{N}.jsonl: one line per
          sample, each value the sample's slice of the batch (a list of one),
          plus "idx"; json.dumps(..., default=str). The step metrics go only
          to the logging backends; TensorboardLogger writes them with
          torch's SummaryWriter.add_scalar under "train/<name>" into
          <log_dir>/tensorboard/events.out.tfevents.*: TFRecord framing
          (length, masked CRC-32C, data, masked CRC-32C) of Event protos
          {wall_time=1 double, step=2 int64, summary=5 {value=1 {tag=1,
          simple_value=2 float}}}, written here by hand.
"""
import json
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

QUESTIONS = [
    ("What is 12 * 13?", "156"),
    ("Factor x^2 - 5x + 6.", "(x - 2)(x - 3)"),
]


def explanation(q, i):
    return "Think step by step about '%s', way %d." % (q, i)


def completion(q, i, ended=True):
    body = explanation(q, i)
    return body + ("<|end_of_explanation|>" if ended else "")


def decoded_teacher_prompt(q, s):
    # The chat template's <|im_start|>/<|im_end|> are special tokens, so TRL's
    # and verl's batch_decode(..., skip_special_tokens=True) drop them.
    return ("system\nYou are a teacher.\nuser\n%s\nassistant\n<|begin_of_solution|>%s<|end_of_solution|>"
            "\n\n<|begin_of_explanation|>\n\n" % (q, s))


# ---------------------------------------------------------------- TRL ----

def trl_log(step, reward, kl):
    return {
        "clip_ratio/high_max": 0.0,
        "clip_ratio/high_mean": 0.0,
        "clip_ratio/low_mean": 0.0,
        "clip_ratio/low_min": 0.0,
        "clip_ratio/region_mean": 0.01 * step,
        "completions/clipped_ratio": 0.0,
        "completions/max_length": 60.0,
        "completions/max_terminated_length": 60.0,
        "completions/mean_length": 40.0 + step,
        "completions/mean_terminated_length": 40.0 + step,
        "completions/min_length": 20.0,
        "completions/min_terminated_length": 20.0,
        "entropy": 0.8,
        "epoch": step / 4,
        "frac_reward_zero_std": 0.5,
        "grad_norm": 0.3,
        "kl": kl,
        "learning_rate": 1e-06,
        "loss": 0.001 * step,
        "num_tokens": 400.0 * step,
        "reward": reward,
        "reward_std": 0.4,
        "rewards/answer_reward/mean": reward - 0.5,
        "rewards/answer_reward/std": 0.3,
        "rewards/format_reward/mean": 0.5,
        "rewards/format_reward/std": None,  # every value NaN: GRPOTrainer.log writes None
        "step": step,
    }


def trainer_state(history, step):
    return {
        "best_global_step": None,
        "best_metric": None,
        "best_model_checkpoint": None,
        "epoch": step / 4,
        "eval_steps": 500,
        "global_step": step,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": history,
        "logging_steps": 2,
        "max_steps": 4,
        "num_input_tokens_seen": 400 * step,
        "num_train_epochs": 1,
        "save_steps": 2,
        "stateful_callbacks": {},
        "total_flos": 0.0,
        "train_batch_size": 4,
        "trial_name": None,
        "trial_params": None,
    }


def save_state(path, state):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(state, indent=2, sort_keys=True) + "\n")


def write_trl():
    root = os.path.join(HERE, "trl")
    h2 = [trl_log(2, 0.75, 0.0004)]
    save_state(os.path.join(root, "checkpoint-2", "trainer_state.json"), trainer_state(h2, 2))
    h4 = h2 + [trl_log(4, 1.25, 0.0009)]
    save_state(os.path.join(root, "checkpoint-4", "trainer_state.json"), trainer_state(h4, 4))


# --------------------------------------------------------------- verl ----

def verl_data(step):
    score = 0.5 + 0.25 * step
    return {
        "actor/entropy": 0.9,
        "actor/grad_norm": 0.2 * step,
        "actor/kl_coef": 0.001,
        "actor/kl_loss": 0.0003 * step,
        "actor/lr": 1e-06,
        "actor/pg_clipfrac": 0.02,
        "actor/pg_loss": -0.01 * step,
        "critic/advantages/mean": 0.0,
        "critic/rewards/mean": score,
        "critic/score/max": 1.0,
        "critic/score/mean": score,
        "critic/score/min": 0.0,
        "perf/mfu/actor": None,  # orjson writes a NaN as null
        "prompt_length/mean": 50.0,
        "response_length/clip_ratio": 0.0,
        "response_length/mean": 30.0 + step,
        "timing_s/step": 12.5,
        "training/epoch": 0,
        "training/global_step": step,
    }


def write_verl():
    root = os.path.join(HERE, "verl")
    os.makedirs(os.path.join(root, "rollout"), exist_ok=True)
    # FileLogger opens the file "wb" and writes one line per log call.
    with open(os.path.join(root, "rlt_grpo.jsonl"), "wb") as f:
        for step in (1, 2):
            f.write(json.dumps({"step": step, "data": verl_data(step)}, separators=(",", ":")).encode() + b"\n")
    for step in (1, 2):
        entries = []
        for qi, (q, s) in enumerate(QUESTIONS):
            for i in range(2):
                entries.append({
                    "input": decoded_teacher_prompt(q, s),
                    "output": completion(q, i),
                    "gts": s,
                    "score": 0.25 * (qi + i + step),
                    "step": step,
                    "acc": float(i == 0),  # a reward extra of the same length
                })
        lines = [json.dumps(e, ensure_ascii=False) for e in entries]
        with open(os.path.join(root, "rollout", "%d.jsonl" % step), "w") as f:
            f.write("\n".join(lines) + "\n")


# ------------------------------------------------------------ NeMo-RL ----

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def event(wall_time, step=None, tag=None, value=None, file_version=None):
    b = field(1, 1, struct.pack("<d", wall_time))
    if step is not None:
        b += field(2, 0, varint(step))
    if file_version is not None:
        b += field(3, 2, file_version.encode())
    if tag is not None:
        v = field(1, 2, tag.encode()) + field(2, 5, struct.pack("<f", value))
        b += field(5, 2, field(1, 2, v))
    return b


def record(data):
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc(header)) + data + struct.pack("<I", masked_crc(data))


def nemo_metrics(step):
    return {
        "train/approx_entropy": 0.7,
        "train/gen_kl_error": 0.0001,
        "train/grad_norm": 0.1 * step,
        "train/kl_penalty": 0.0002 * step,
        "train/loss": 0.02 * step,
        "train/lr": 1e-06,
        "train/mean_gen_tokens_per_sample": 33.0 + step,
        "train/reward": 0.4 + 0.1 * step,
        "train/token_mult_prob_error": 1.001,
    }


def write_nemo():
    root = os.path.join(HERE, "nemo-rl")
    os.makedirs(os.path.join(root, "tensorboard"), exist_ok=True)
    for step in (1, 2):
        lines = []
        idx = 0
        for qi, (q, s) in enumerate(QUESTIONS):
            for i in range(2):
                user = "%s\n\n<|begin_of_solution|>%s<|end_of_solution|>" % (q, s)
                adv = 0.5 if i == 0 else -0.5
                n_prompt, n_gen = 6, 4
                sample = {
                    "content": [[user, completion(q, i, ended=(i == 0 or step == 1))]],
                    "rewards": [0.2 * (qi + i + step)],
                    "input_lengths": [n_prompt + n_gen],
                    "token_ids": [list(range(100, 100 + n_prompt + n_gen))],
                    "token_loss_mask": [[0] * n_prompt + [1] * n_gen],
                    "sample_loss_mask": [1.0],
                    "advantages": [[adv] * (n_prompt + n_gen)],
                    "generation_logprobs": [[0.0] * n_prompt + [-0.5] * n_gen],
                    "prev_logprobs": [[0.0] * n_prompt + [-0.5] * n_gen],
                }
                lines.append(json.dumps({**sample, "idx": idx}, default=str) + "\n")
                idx += 1
        with open(os.path.join(root, "train_data_step%d.jsonl" % step), "w") as f:
            for line in lines:
                f.write(line)
    path = os.path.join(root, "tensorboard", "events.out.tfevents.1767225600.node0.1234.0")
    with open(path, "wb") as f:
        f.write(record(event(1767225600.0, file_version="brain.Event:2")))
        t = 1767225600.0
        for step in (1, 2):
            for tag, v in sorted(nemo_metrics(step).items()):
                t += 1
                f.write(record(event(t, step=step, tag=tag, value=v)))


def main():
    write_trl()
    write_verl()
    write_nemo()


if __name__ == "__main__":
    main()
