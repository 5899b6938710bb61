"""alphaGAN (`--method=search`): differentiable generator search by the duality gap, genotypes, retraining.

candidate_ops      the 6 normal / 3 up-sampling candidates (op sets paper, normalized); mixed edge, plain convs fused
space              the cell network and edge layout shared by the supernet and derived generators
supernet           SupernetGenerator: mixed edges + 81 architecture scalars (arch_variables / weight_variables)
genotype           Genotype, derive (argmax), JSON save/load/resolve, the published alphaGAN_l / alphaGAN_s
genotype_generator GenotypeGenerator and build_genotype_generator(cfg, ch) (model.g.arch="genotype")
architect          duality gap terms, CoupledAdam (PyTorch Adam with coupled L2), Architect
searcher           Searcher: the bi-level rounds, logging, genotype per round, checkpoint/resume
method             the `search` method's registration: config sections, preset, smoke shrink, checks
plan               the sub-runs the experiment executor runs: search, then retraining of the genotype
"""
