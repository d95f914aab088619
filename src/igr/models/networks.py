"""Encoder and decoder networks of the discrete VAE (spec section 5), as ``tf.Module``s.

Plain ``tf.Variable``s in ``tf.Module``s: checkpointable with ``tf.train.Checkpoint``, no
Keras version coupling, and initialised from stateless seeds (a pure function of the seed).

- ``linear``: one dense layer in the encoder (data -> latent parameters) and one in the
  decoder (latent -> pixel parameters).
- ``nonlinear``: encoder D-512-256 with ReLU, then a dense layer to the latent parameters;
  decoder mirrored: latent -> 256 -> 512 (ReLU) -> pixel parameters.
- ``conv`` (64x64 images in the paper, any size here): four 4x4 stride-2 convolutions with
  32, 64, 64, 64 channels (ReLU, SAME padding), dense 256 (ReLU), dense to the latent
  parameters; decoder: dense 256, dense to the last feature map, transposed convolutions
  64, 64, 32 (ReLU) and a last one to the output channels, each 4x4 stride 2, cropped to
  the image size.

Initialisation: Glorot-uniform weights ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``,
zero biases.
"""

from __future__ import annotations

import itertools
import math

import tensorflow as tf

ARCHITECTURES: tuple[str, ...] = ("linear", "nonlinear", "conv")


def _glorot(shape, fan_in: int, fan_out: int, seed) -> tf.Tensor:
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return tf.random.stateless_uniform(shape, seed=seed, minval=-limit, maxval=limit)


class SeedSequence:
    """Successive stateless seeds ``(seed, 1000 + i)`` for the layers of one network."""

    def __init__(self, seed: int, offset: int):
        self.seed, self.next_index = int(seed), int(offset)

    def __call__(self) -> tf.Tensor:
        self.next_index += 1
        return tf.constant([self.seed, self.next_index], tf.int32)


class Dense(tf.Module):
    """``y = activation(x W + b)``."""

    def __init__(self, fan_in: int, fan_out: int, seeds: SeedSequence, relu: bool, name=None):
        super().__init__(name=name)
        self.kernel = tf.Variable(
            _glorot([fan_in, fan_out], fan_in, fan_out, seeds()), name="kernel"
        )
        self.bias = tf.Variable(tf.zeros([fan_out]), name="bias")
        self.relu = relu

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        y = tf.matmul(x, self.kernel) + self.bias
        return tf.nn.relu(y) if self.relu else y


class Conv(tf.Module):
    """4x4 stride-2 convolution (``transpose``: its transposed counterpart), SAME padding."""

    def __init__(self, in_channels, out_channels, seeds, relu, transpose=False, name=None):
        super().__init__(name=name)
        fan_in, fan_out = 16 * in_channels, 16 * out_channels
        shape = (
            [4, 4, out_channels, in_channels] if transpose else [4, 4, in_channels, out_channels]
        )
        self.kernel = tf.Variable(_glorot(shape, fan_in, fan_out, seeds()), name="kernel")
        self.bias = tf.Variable(tf.zeros([out_channels]), name="bias")
        self.relu, self.transpose, self.out_channels = relu, transpose, out_channels

    def __call__(self, x: tf.Tensor, output_hw=None) -> tf.Tensor:
        if self.transpose:
            batch = tf.shape(x)[0]
            shape = tf.stack([batch, output_hw[0], output_hw[1], self.out_channels])
            y = tf.nn.conv2d_transpose(x, self.kernel, shape, strides=2, padding="SAME")
        else:
            y = tf.nn.conv2d(x, self.kernel, strides=2, padding="SAME")
        y = y + self.bias
        return tf.nn.relu(y) if self.relu else y


class MLP(tf.Module):
    """Dense layers: ReLU on every hidden layer, none on the output layer."""

    def __init__(self, sizes: list[int], seeds: SeedSequence, name=None):
        super().__init__(name=name)
        self.layers = [
            Dense(a, b, seeds, relu=i < len(sizes) - 2, name=f"dense_{i}")
            for i, (a, b) in enumerate(itertools.pairwise(sizes))
        ]

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class ConvEncoder(tf.Module):
    CHANNELS = (32, 64, 64, 64)

    def __init__(self, image_shape, num_outputs, seeds, name=None):
        super().__init__(name=name)
        height, width, channels = image_shape
        ins = (channels,) + self.CHANNELS[:-1]
        self.convs = [Conv(a, b, seeds, relu=True) for a, b in zip(ins, self.CHANNELS)]
        self.sizes = [(height, width)]
        for _ in self.CHANNELS:
            h, w = self.sizes[-1]
            self.sizes.append((math.ceil(h / 2), math.ceil(w / 2)))
        h, w = self.sizes[-1]
        self.head = MLP([h * w * self.CHANNELS[-1], 256, num_outputs], seeds)
        self.head.layers[0].relu = True

    def __call__(self, images):
        x = images
        for conv in self.convs:
            x = conv(x)
        return self.head(tf.reshape(x, [tf.shape(x)[0], -1]))


class ConvDecoder(tf.Module):
    def __init__(self, encoder: ConvEncoder, num_inputs, out_channels, seeds, name=None):
        super().__init__(name=name)
        self.sizes = encoder.sizes
        h, w = self.sizes[-1]
        last = ConvEncoder.CHANNELS[-1]
        self.head = MLP([num_inputs, 256, h * w * last], seeds)
        self.head.layers[0].relu = True
        self.head.layers[-1].relu = True
        outs = (64, 64, 32, out_channels)
        ins = (last, 64, 64, 32)
        self.deconvs = [
            Conv(a, b, seeds, relu=i < 3, transpose=True) for i, (a, b) in enumerate(zip(ins, outs))
        ]

    def __call__(self, latent):
        h, w = self.sizes[-1]
        x = tf.reshape(self.head(latent), [-1, h, w, ConvEncoder.CHANNELS[-1]])
        for deconv, size in zip(self.deconvs, reversed(self.sizes[:-1])):
            x = deconv(x, output_hw=size)
        return x


class FlatMLP(tf.Module):
    """An :class:`MLP` on flattened inputs, its output reshaped to ``output_shape`` if given."""

    def __init__(self, mlp: MLP, output_shape=None, name=None):
        super().__init__(name=name)
        self.mlp = mlp
        self.output_shape = None if output_shape is None else tuple(int(d) for d in output_shape)

    def __call__(self, x):
        y = self.mlp(tf.reshape(x, [tf.shape(x)[0], -1]))
        if self.output_shape is None:
            return y
        return tf.reshape(y, [-1, *self.output_shape])


def build_networks(
    architecture: str, image_shape, num_latent_params: int, latent_size: int, seed: int
):
    """(encoder, decoder): images [B, H, W, C] -> [B, num_latent_params];
    latent [B, latent_size] -> pixel parameters [B, H, W, C] (logits or Gaussian means)."""
    height, width, channels = image_shape
    pixels = height * width * channels
    encoder_seeds, decoder_seeds = SeedSequence(seed, 1000), SeedSequence(seed, 2000)
    if architecture == "conv":
        encoder = ConvEncoder(image_shape, num_latent_params, encoder_seeds, name="encoder")
        decoder = ConvDecoder(encoder, latent_size, channels, decoder_seeds, name="decoder")
        return encoder, decoder
    if architecture == "linear":
        encoder_sizes, decoder_sizes = [pixels, num_latent_params], [latent_size, pixels]
    elif architecture == "nonlinear":
        encoder_sizes = [pixels, 512, 256, num_latent_params]
        decoder_sizes = [latent_size, 256, 512, pixels]
    else:
        raise ValueError(f"unknown architecture {architecture!r}; expected one of {ARCHITECTURES}")
    encoder_mlp = MLP(encoder_sizes, encoder_seeds, name="encoder")
    decoder_mlp = MLP(decoder_sizes, decoder_seeds, name="decoder")
    return (
        FlatMLP(encoder_mlp, None, name="encoder"),
        FlatMLP(decoder_mlp, image_shape, name="decoder"),
    )
