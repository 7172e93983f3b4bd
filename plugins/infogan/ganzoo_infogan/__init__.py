"""InfoGAN (Chen et al. 2016) for ganzoo: see :mod:`ganzoo_infogan.plugin` (hooks), :mod:`ganzoo_infogan.networks`
(G and the D/Q network), :mod:`ganzoo_infogan.information` (L_I and the mutual-information estimate) and
:mod:`ganzoo_infogan.evaluation` (the categorical code as an unsupervised classifier)."""
