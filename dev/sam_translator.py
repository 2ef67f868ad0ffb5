"""SAM's translator for `dev.sam_cli.translate`, in the SAM CLI's Python (.venv-sam, `python -I`: its pydantic is
older than the layer's). Reads `{"path": …, <parameter>: <value>, …}`; writes the template as written and its
resources."""

import copy
import json
import sys

import boto3
from samtranslator.metrics.metrics import Metrics
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

parameters = json.load(sys.stdin)
with open(parameters.pop("path"), encoding="utf-8") as template:
    document = yaml_parse(template.read())
local = copy.deepcopy(document)  # the translator takes S3 locations only: the code dirs go under a local bucket
for resource in local["Resources"].values():
    key = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}.get(resource["Type"])
    if key and isinstance(resource.get("Properties", {}).get(key), str):
        resource["Properties"][key] = "s3://local-code/" + resource["Properties"][key]
# A region is needed for ARNs only; nothing is asked of AWS (no credentials, no managed policies looked up).
metrics = Metrics()  # the translator's usage counts, which go to its no-op publisher: nothing leaves the machine
translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"), metrics=metrics)
translated = translator.translate(local, parameter_values=parameters, get_managed_policy_map=dict)
metrics.publish()
json.dump({"document": document, "resources": translated["Resources"]}, sys.stdout)
