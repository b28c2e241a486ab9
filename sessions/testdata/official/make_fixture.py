#!/usr/bin/env python3
"""Writes the small official-RLT-trainer run folder used by sessions tests.

Hand-made in the style of the official trainer's output (RLT.md §7): a Hugging
Face trainer_state.json (json.dumps(..., indent=2, sort_keys=True), so NaN is
written bare) whose log_history has one object per logging step, and
stored_completions/<step>.csv files with columns step, prompt, completion,
reward written by Python's csv module (quoted multi-line fields). Standard
library only; the numbers are invented. Run from this folder:

    python3 make_fixture.py

and commit the resulting run/ folder.
"""
import csv
import json
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "run")

PROMPT = ("<|im_start|>system\nYou are a teacher.<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n"
          "<|im_start|>assistant\n<|begin_of_solution|>{s}<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n")


def step_log(step, reward, kl, loss, grad_norm):
    r_ss = -0.8 + 0.1 * step
    r_kl = -0.3
    return {
        "step": step,
        "epoch": step / 8,
        "reward": reward,
        "reward_std": 0.25,
        "kl": kl,
        "completion_length": 180.5 + step,
        "loss": loss,
        "grad_norm": grad_norm,
        "learning_rate": 1e-06,
        "answer_log_prob_mean": -0.7,
        "answer_log_prob_min": -3.2,
        "reasoning_kl_mean": 0.09,
        "reasoning_kl_max": 1.4,
        "solution_log_prob_reward": r_ss,
        "kl_reward": r_kl,
        "match_reward": 0.0,
        "total_teacher_likelihood_reward": r_ss + r_kl,
        "no_entropy_total_teacher_likelihood_reward": r_ss - 0.2,
    }


def main():
    os.makedirs(os.path.join(RUN, "stored_completions"), exist_ok=True)
    os.makedirs(os.path.join(RUN, "teacher_chats"), exist_ok=True)

    history = [
        step_log(1, -1.05, 0.0, 0.0012, 0.42),
        step_log(2, -0.98, 0.0004, -0.0031, math.nan),  # json writes a bare NaN
        dict(step_log(3, -0.91, 0.0011, 0.0008, 0.37), note="warmup done"),  # one non-numeric value
        {"epoch": 0.375, "step": 3, "total_flos": 0.0, "train_loss": 0.0004,
         "train_runtime": 812.4, "train_samples_per_second": 1.18, "train_steps_per_second": 0.004},
    ]
    state = {
        "best_metric": None,
        "best_model_checkpoint": None,
        "epoch": 0.375,
        "eval_steps": 500,
        "global_step": 3,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": history,
        "logging_steps": 1,
        "max_steps": 3,
        "num_train_epochs": 1,
        "save_steps": 50,
        "total_flos": 0.0,
        "train_batch_size": 1,
        "trial_name": None,
        "trial_params": None,
    }
    with open(os.path.join(RUN, "trainer_state.json"), "w") as f:
        f.write(json.dumps(state, indent=2, sort_keys=True) + "\n")

    rows1 = [
        (1, PROMPT.format(q="What is 2+3?", s="5"),
         "Adding 2 and 3 gives 5.\nSo the answer is 5.<|end_of_explanation|><|im_end|>", -0.93),
        (1, PROMPT.format(q="Is 7 prime?", s="Yes"),
         'A number is "prime" when its only divisors are 1 and itself, and 7\nhas no divisors, like 2, 3 or 5,\n\nso yes.<|end_of_explanation|><|im_end|>', -1.17),
    ]
    # csv.writer's default line terminator is "\r\n".
    with open(os.path.join(RUN, "stored_completions", "1.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "prompt", "completion", "reward"])
        w.writerows(rows1)

    rows2 = [
        (2, PROMPT.format(q="Compute 6*7.", s="42"),
         "Six sevens: 7, 14, 21, 28, 35, 42.<|end_of_explanation|><|im_end|>", -0.61),
        (2, PROMPT.format(q="What is 10/4?", s="2.5"),
         'Divide: 10 = 4*2 + 2, and 2/4 = 0.5, so "2.5".', -2.05),  # no end tag: truncated output
        (2, PROMPT.format(q="Name an even prime.", s="2"),
         "2 is even,\nand prime.<|end_of_explanation|><|im_end|>", -0.5),
    ]
    with open(os.path.join(RUN, "stored_completions", "2.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["step", "prompt", "completion", "reward"])
        w.writerows(rows2)

    with open(os.path.join(RUN, "teacher_chats", "log.txt"), "w") as f:
        f.write("step 1: 2 chats\nstep 2: 3 chats\n")


if __name__ == "__main__":
    main()
