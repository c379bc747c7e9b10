from testtrack.ci import detect_run


def test_github_actions_run_with_its_attempt_and_pull_request():
    run = detect_run({
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": "123",
        "GITHUB_RUN_ATTEMPT": "3",
        "GITHUB_WORKFLOW": "CI",
        "GITHUB_REF": "refs/pull/42/merge",
        "GITHUB_HEAD_REF": "feature/cart",
        "GITHUB_SHA": "abc123",
    })
    assert run.provider == "github"
    assert run.key == "github:acme/shop:123"
    assert run.attempt == 2
    assert run.branch == "feature/cart"
    assert run.pull_request == "42"
    assert run.ci_url == "https://github.com/acme/shop/actions/runs/123"


def test_gitlab_pipeline_numbers_no_attempt():
    run = detect_run({
        "GITLAB_CI": "true",
        "CI_PROJECT_PATH": "acme/shop",
        "CI_PIPELINE_ID": "77",
        "CI_COMMIT_REF_NAME": "main",
        "CI_PIPELINE_URL": "https://gitlab.example.com/acme/shop/-/pipelines/77",
    })
    assert (run.provider, run.key, run.attempt, run.branch) == ("gitlab", "gitlab:acme/shop:77", 0, "main")


def test_azure_rerun_and_jenkins_tag():
    azure = detect_run({
        "TF_BUILD": "True",
        "BUILD_BUILDID": "9",
        "SYSTEM_COLLECTIONID": "c",
        "SYSTEM_TEAMPROJECTID": "p",
        "SYSTEM_COLLECTIONURI": "https://dev.azure.com/acme/",
        "SYSTEM_TEAMPROJECT": "Shop Web",
        "SYSTEM_JOBATTEMPT": "2",
        "BUILD_SOURCEBRANCH": "refs/heads/main",
    })
    assert (azure.key, azure.attempt, azure.branch) == ("azure:c:p:9", 1, "main")
    assert azure.ci_url == "https://dev.azure.com/acme/Shop%20Web/_build/results?buildId=9"
    jenkins = detect_run({"JENKINS_URL": "https://ci/", "BUILD_NUMBER": "5", "JOB_NAME": "shop/main",
                          "GIT_BRANCH": "origin/main"})
    assert (jenkins.key, jenkins.branch) == ("jenkins:jenkins-shop-main-5", "main")


def test_overrides_win_and_a_local_run_gets_a_fresh_key():
    run = detect_run({"TESTTRACK_RUN_KEY": "nightly-7", "TESTTRACK_RUN_ATTEMPT": "4",
                      "TESTTRACK_BRANCH": "release"})
    assert (run.provider, run.key, run.attempt, run.branch) == (None, "nightly-7", 4, "release")
    local = detect_run({"TESTTRACK_RUN_ATTEMPT": "4"})
    assert local.key.startswith("local-") and local.attempt == 0
    assert detect_run({}).key != local.key


def test_run_start_input_carries_the_shard():
    body = detect_run({"TESTTRACK_RUN_KEY": "k"}).run_start_input(project_id=3, shard=(2, 4), name="pytest")
    assert body == {"projectId": 3, "key": "k", "name": "pytest", "attempt": 0, "shard": 2,
                    "expectedShards": 4}
