"""`hullscan k8s`: the images a Kubernetes cluster's workloads run, scanned once per digest through the
registry, the findings mapped back to the workloads (docs/k8s.md).

| module | holds |
|---|---|
| kubeconfig.py | the kubeconfig reader (clusters, users, contexts; tokens, client certificates, CAs) and the in-cluster config |
| client.py | the API client on the one HTTP client: paginated lists, a secret |
| workloads.py | list items read into workloads and their containers' images; pods mapped to their owners |
| pullsecrets.py | imagePullSecrets (dockerconfigjson / dockercfg) turned into registry credentials |
| run.py | listing, resolving tags to digests, one scan per digest, the rows and the JSON document |
"""
