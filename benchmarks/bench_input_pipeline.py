"""Does the input pipeline keep up with training? One command, one process:

    python3 benchmarks/bench_input_pipeline.py [--data-dir DIR] [--json FILE]

Measures, in the same run:

1. batches/s delivered by the MNIST ``tf.data`` pipeline of :mod:`igr.data.pipeline`
   (batch 100, binarised at 0.5, flattened to 784, a fresh shuffle every epoch);
2. steps/s of a compiled (``tf.function``) training step of a nonlinear discrete VAE
   stand-in on one fixed batch of the same shape: 784-512-256 ReLU encoder to 200 logits
   (20 categorical variables of 10 categories), a Gumbel-softmax sample, the mirrored
   256-512-784 decoder, Bernoulli likelihood plus a KL to the uniform prior, Adam;
3. steps/s of the same step fed by the pipeline (what training will see).

It prints the ratio (1) / (2); the target is >= 20, and the exit status is 1 below it.
The VAE here is a local stand-in of the paper's `nonlinear` architecture (spec section 5),
written only to time a realistic step.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from igr.data.loading import load_arrays  # noqa: E402
from igr.data.pipeline import InputPipeline  # noqa: E402

TARGET_RATIO = 20.0
BATCH_SIZE = 100
NUM_VARIABLES, NUM_CATEGORIES = 20, 10
TEMPERATURE = 0.5


def dense_parameters(rng: np.random.Generator, sizes: list[int], name: str) -> list[tf.Variable]:
    variables = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        limit = np.sqrt(6.0 / (fan_in + fan_out))  # Glorot uniform
        kernel = rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)
        variables.append(tf.Variable(kernel, name=f"{name}_kernel{index}"))
        variables.append(tf.Variable(tf.zeros([fan_out]), name=f"{name}_bias{index}"))
    return variables


def mlp(inputs: tf.Tensor, parameters: list[tf.Variable]) -> tf.Tensor:
    hidden = inputs
    num_layers = len(parameters) // 2
    for layer in range(num_layers):
        hidden = tf.matmul(hidden, parameters[2 * layer]) + parameters[2 * layer + 1]
        if layer < num_layers - 1:
            hidden = tf.nn.relu(hidden)
    return hidden


class VaeStandIn(tf.Module):
    """The nonlinear discrete VAE, reduced to what a training step computes, with Adam."""

    def __init__(self, seed: int, learning_rate: float = 1e-4):
        super().__init__()
        rng = np.random.default_rng(seed)
        latent = NUM_VARIABLES * NUM_CATEGORIES
        self.encoder = dense_parameters(rng, [784, 512, 256, latent], "encoder")
        self.decoder = dense_parameters(rng, [latent, 256, 512, 784], "decoder")
        self.parameters = self.encoder + self.decoder
        self.first_moments = [tf.Variable(tf.zeros_like(p)) for p in self.parameters]
        self.second_moments = [tf.Variable(tf.zeros_like(p)) for p in self.parameters]
        self.step_count = tf.Variable(0, dtype=tf.int64)
        self.learning_rate = learning_rate
        self.seed = seed

    def loss(self, images: tf.Tensor) -> tf.Tensor:
        logits = tf.reshape(mlp(images, self.encoder), [-1, NUM_VARIABLES, NUM_CATEGORIES])
        uniform = tf.random.stateless_uniform(
            tf.shape(logits), seed=tf.stack([tf.constant(self.seed, tf.int64), self.step_count]),
            minval=1e-7, maxval=1.0,
        )
        gumbel = -tf.math.log(-tf.math.log(uniform))
        sample = tf.nn.softmax((logits + gumbel) / TEMPERATURE, axis=-1)
        reconstruction = mlp(tf.reshape(sample, [-1, NUM_VARIABLES * NUM_CATEGORIES]), self.decoder)
        log_likelihood = -tf.reduce_sum(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=images, logits=reconstruction), axis=-1
        )
        log_q = tf.nn.log_softmax(logits, axis=-1)
        kl = tf.reduce_sum(tf.exp(log_q) * (log_q + np.log(NUM_CATEGORIES)), axis=[1, 2])
        return tf.reduce_mean(kl - log_likelihood)

    @tf.function
    def train_step(self, images: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = self.loss(images)
        gradients = tape.gradient(loss, self.parameters)
        self.step_count.assign_add(1)
        t = tf.cast(self.step_count, tf.float32)
        beta1, beta2, epsilon = 0.9, 0.999, 1e-7
        scale = self.learning_rate * tf.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
        for parameter, gradient, m, v in zip(self.parameters, gradients, self.first_moments, self.second_moments):
            m.assign(beta1 * m + (1.0 - beta1) * gradient)
            v.assign(beta2 * v + (1.0 - beta2) * tf.square(gradient))
            parameter.assign_sub(scale * m / (tf.sqrt(v) + epsilon))
        return loss


def time_pipeline(pipeline: InputPipeline, num_epochs: int) -> tuple[float, int]:
    """Batches per second over ``num_epochs`` epochs, after a warm-up epoch."""
    for _ in pipeline.epoch(0):
        pass  # builds and traces the pipeline
    count = 0
    start = time.perf_counter()
    for batch in pipeline.epochs(num_epochs, start_epoch=1):
        count += 1
    elapsed = time.perf_counter() - start
    del batch
    return count / elapsed, count


def time_training(model: VaeStandIn, batches, num_steps: int) -> float:
    """Training steps per second, after 20 warm-up steps (tracing)."""
    iterator = iter(batches)
    for _ in range(20):
        loss = model.train_step(next(iterator))
    loss.numpy()
    start = time.perf_counter()
    for _ in range(num_steps):
        loss = model.train_step(next(iterator))
    loss.numpy()  # wait for the last step
    return num_steps / (time.perf_counter() - start)


def repeat_forever(batch):
    while True:
        yield batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="data directory (default: $IGR_DATA_DIR or resources/data)")
    parser.add_argument("--epochs", type=int, default=5, help="pipeline epochs to time (default 5)")
    parser.add_argument("--steps", type=int, default=300, help="training steps to time (default 300)")
    parser.add_argument("--seed", type=int, default=5328)
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    arrays = load_arrays("mnist", args.data_dir, binarize=True, flatten=True)
    pipeline = InputPipeline(arrays.x_train, batch_size=BATCH_SIZE, seed=args.seed)
    batches_per_second, num_batches = time_pipeline(pipeline, args.epochs)

    model = VaeStandIn(seed=args.seed)
    fixed_batch = tf.constant(arrays.x_train[:BATCH_SIZE])
    steps_per_second = time_training(model, repeat_forever(fixed_batch), args.steps)
    fed_steps_per_second = time_training(model, pipeline.epochs(1000, start_epoch=100), args.steps)

    ratio = batches_per_second / steps_per_second
    results = {
        "tensorflow": tf.__version__,
        "cpu_count": os.cpu_count(),
        "batch_size": BATCH_SIZE,
        "pipeline_batches": num_batches,
        "pipeline_batches_per_second": round(batches_per_second, 1),
        "train_steps_per_second_fixed_batch": round(steps_per_second, 1),
        "train_steps_per_second_fed_by_pipeline": round(fed_steps_per_second, 1),
        "ratio": round(ratio, 1),
        "target_ratio": TARGET_RATIO,
    }
    print(f"input pipeline : {batches_per_second:9.1f} batches/s ({num_batches} batches of {BATCH_SIZE}, MNIST binarised)")
    print(f"VAE train step : {steps_per_second:9.1f} steps/s (tf.function, one fixed batch)")
    print(f"  fed by the pipeline: {fed_steps_per_second:9.1f} steps/s")
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"ratio          : {ratio:9.1f}x ({verdict} the target of {TARGET_RATIO:.0f}x)")
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(results, stream, indent=2)
            stream.write("\n")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
