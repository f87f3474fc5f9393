// GENERATED FILE - do not edit by hand.
// The ECS RegisterTaskDefinition request model of @aws-sdk/client-ecs 3.1178.0, read from
// the static schemas and enum objects the SDK exports, so validating a task definition needs no SDK
// at run time. Regenerate after upgrading @aws-sdk/client-ecs: npm run gen:ecs-model
// (scripts/gen-ecs-model.ts); test/unit/ecs/task-definition-model.test.ts fails when it is stale.
import type { EcsModelTable } from './model.js'

export const ECS_MODEL: EcsModelTable = {
  sdkVersion: '3.1178.0',
  root: 'RegisterTaskDefinitionRequest',
  structures: {
    RegisterTaskDefinitionRequest: {
      members: {
        family: 'string',
        containerDefinitions: 'ContainerDefinitions',
        taskRoleArn: 'string',
        executionRoleArn: 'string',
        networkMode: 'string',
        volumes: 'VolumeList',
        placementConstraints: 'TaskDefinitionPlacementConstraints',
        requiresCompatibilities: 'list<string>',
        cpu: 'string',
        memory: 'string',
        tags: 'Tags',
        pidMode: 'string',
        ipcMode: 'string',
        proxyConfiguration: 'ProxyConfiguration',
        inferenceAccelerators: 'InferenceAccelerators',
        ephemeralStorage: 'EphemeralStorage',
        runtimePlatform: 'RuntimePlatform',
        enableFaultInjection: 'boolean',
        trustedExecutionConfiguration: 'TrustedExecutionConfiguration'
      },
      required: ['family', 'containerDefinitions']
    },
    ContainerDefinition: {
      members: {
        name: 'string',
        image: 'string',
        repositoryCredentials: 'RepositoryCredentials',
        cpu: 'number',
        memory: 'number',
        memoryReservation: 'number',
        links: 'list<string>',
        portMappings: 'PortMappingList',
        essential: 'boolean',
        restartPolicy: 'ContainerRestartPolicy',
        entryPoint: 'list<string>',
        command: 'list<string>',
        environment: 'EnvironmentVariables',
        environmentFiles: 'EnvironmentFiles',
        mountPoints: 'MountPointList',
        volumesFrom: 'VolumeFromList',
        linuxParameters: 'LinuxParameters',
        secrets: 'SecretList',
        dependsOn: 'ContainerDependencies',
        startTimeout: 'number',
        stopTimeout: 'number',
        versionConsistency: 'string',
        hostname: 'string',
        user: 'string',
        workingDirectory: 'string',
        disableNetworking: 'boolean',
        privileged: 'boolean',
        readonlyRootFilesystem: 'boolean',
        dnsServers: 'list<string>',
        dnsSearchDomains: 'list<string>',
        extraHosts: 'HostEntryList',
        dockerSecurityOptions: 'list<string>',
        interactive: 'boolean',
        pseudoTerminal: 'boolean',
        dockerLabels: 'map<string>',
        ulimits: 'UlimitList',
        logConfiguration: 'LogConfiguration',
        healthCheck: 'HealthCheck',
        systemControls: 'SystemControls',
        resourceRequirements: 'ResourceRequirements',
        firelensConfiguration: 'FirelensConfiguration',
        credentialSpecs: 'list<string>'
      }
    },
    RepositoryCredentials: {
      members: { credentialsParameter: 'string' },
      required: ['credentialsParameter']
    },
    PortMapping: {
      members: {
        containerPort: 'number',
        hostPort: 'number',
        protocol: 'string',
        name: 'string',
        appProtocol: 'string',
        containerPortRange: 'string'
      }
    },
    ContainerRestartPolicy: {
      members: {
        enabled: 'boolean',
        ignoredExitCodes: 'list<number>',
        restartAttemptPeriod: 'number'
      },
      required: ['enabled']
    },
    KeyValuePair: { members: { name: 'string', value: 'string' } },
    EnvironmentFile: { members: { value: 'string', type: 'string' }, required: ['value', 'type'] },
    MountPoint: {
      members: { sourceVolume: 'string', containerPath: 'string', readOnly: 'boolean' }
    },
    VolumeFrom: { members: { sourceContainer: 'string', readOnly: 'boolean' } },
    LinuxParameters: {
      members: {
        capabilities: 'KernelCapabilities',
        devices: 'DevicesList',
        initProcessEnabled: 'boolean',
        sharedMemorySize: 'number',
        tmpfs: 'TmpfsList',
        maxSwap: 'number',
        swappiness: 'number'
      }
    },
    KernelCapabilities: { members: { add: 'list<string>', drop: 'list<string>' } },
    Device: {
      members: { hostPath: 'string', containerPath: 'string', permissions: 'list<string>' },
      required: ['hostPath']
    },
    Tmpfs: {
      members: { containerPath: 'string', size: 'number', mountOptions: 'list<string>' },
      required: ['containerPath', 'size']
    },
    Secret: { members: { name: 'string', valueFrom: 'string' }, required: ['name', 'valueFrom'] },
    ContainerDependency: {
      members: { containerName: 'string', condition: 'string' },
      required: ['containerName', 'condition']
    },
    HostEntry: {
      members: { hostname: 'string', ipAddress: 'string' },
      required: ['hostname', 'ipAddress']
    },
    Ulimit: {
      members: { name: 'string', softLimit: 'number', hardLimit: 'number' },
      required: ['name', 'softLimit', 'hardLimit']
    },
    LogConfiguration: {
      members: { logDriver: 'string', options: 'map<string>', secretOptions: 'SecretList' },
      required: ['logDriver']
    },
    HealthCheck: {
      members: {
        command: 'list<string>',
        interval: 'number',
        timeout: 'number',
        retries: 'number',
        startPeriod: 'number'
      },
      required: ['command']
    },
    SystemControl: { members: { namespace: 'string', value: 'string' } },
    ResourceRequirement: {
      members: { type: 'string', value: 'string', sharingStrategy: 'SharingStrategy' },
      required: ['type']
    },
    SharingStrategy: { members: { nvidiaMps: 'NvidiaMpsAllocation' } },
    NvidiaMpsAllocation: {
      members: { memory: 'number', maxComputePercent: 'number' },
      required: ['memory']
    },
    FirelensConfiguration: {
      members: { type: 'string', options: 'map<string>' },
      required: ['type']
    },
    Volume: {
      members: {
        name: 'string',
        host: 'HostVolumeProperties',
        dockerVolumeConfiguration: 'DockerVolumeConfiguration',
        efsVolumeConfiguration: 'EFSVolumeConfiguration',
        s3filesVolumeConfiguration: 'S3FilesVolumeConfiguration',
        fsxWindowsFileServerVolumeConfiguration: 'FSxWindowsFileServerVolumeConfiguration',
        configuredAtLaunch: 'boolean'
      }
    },
    HostVolumeProperties: { members: { sourcePath: 'string' } },
    DockerVolumeConfiguration: {
      members: {
        scope: 'string',
        autoprovision: 'boolean',
        driver: 'string',
        driverOpts: 'map<string>',
        labels: 'map<string>'
      }
    },
    EFSVolumeConfiguration: {
      members: {
        fileSystemId: 'string',
        rootDirectory: 'string',
        transitEncryption: 'string',
        transitEncryptionPort: 'number',
        authorizationConfig: 'EFSAuthorizationConfig'
      },
      required: ['fileSystemId']
    },
    EFSAuthorizationConfig: { members: { accessPointId: 'string', iam: 'string' } },
    S3FilesVolumeConfiguration: {
      members: {
        fileSystemArn: 'string',
        rootDirectory: 'string',
        transitEncryptionPort: 'number',
        accessPointArn: 'string'
      },
      required: ['fileSystemArn']
    },
    FSxWindowsFileServerVolumeConfiguration: {
      members: {
        fileSystemId: 'string',
        rootDirectory: 'string',
        authorizationConfig: 'FSxWindowsFileServerAuthorizationConfig'
      },
      required: ['fileSystemId', 'rootDirectory', 'authorizationConfig']
    },
    FSxWindowsFileServerAuthorizationConfig: {
      members: { credentialsParameter: 'string', domain: 'string' },
      required: ['credentialsParameter', 'domain']
    },
    TaskDefinitionPlacementConstraint: { members: { type: 'string', expression: 'string' } },
    Tag: { members: { key: 'string', value: 'string' } },
    ProxyConfiguration: {
      members: {
        containerName: 'string',
        type: 'string',
        properties: 'ProxyConfigurationProperties'
      },
      required: ['containerName']
    },
    InferenceAccelerator: {
      members: { deviceName: 'string', deviceType: 'string' },
      required: ['deviceName', 'deviceType']
    },
    EphemeralStorage: { members: { sizeInGiB: 'number' }, required: ['sizeInGiB'] },
    RuntimePlatform: { members: { cpuArchitecture: 'string', operatingSystemFamily: 'string' } },
    TrustedExecutionConfiguration: {
      members: { isolationMode: 'string', attestationPolicy: 'string' },
      required: ['isolationMode']
    }
  },
  lists: {
    PortMappingList: 'PortMapping',
    EnvironmentVariables: 'KeyValuePair',
    EnvironmentFiles: 'EnvironmentFile',
    MountPointList: 'MountPoint',
    VolumeFromList: 'VolumeFrom',
    DevicesList: 'Device',
    TmpfsList: 'Tmpfs',
    SecretList: 'Secret',
    ContainerDependencies: 'ContainerDependency',
    HostEntryList: 'HostEntry',
    UlimitList: 'Ulimit',
    SystemControls: 'SystemControl',
    ResourceRequirements: 'ResourceRequirement',
    ContainerDefinitions: 'ContainerDefinition',
    VolumeList: 'Volume',
    TaskDefinitionPlacementConstraints: 'TaskDefinitionPlacementConstraint',
    Tags: 'Tag',
    ProxyConfigurationProperties: 'KeyValuePair',
    InferenceAccelerators: 'InferenceAccelerator'
  },
  maps: {},
  enums: {
    'RegisterTaskDefinitionRequest.networkMode': ['awsvpc', 'bridge', 'host', 'none'],
    'RegisterTaskDefinitionRequest.pidMode': ['host', 'task'],
    'RegisterTaskDefinitionRequest.ipcMode': ['host', 'none', 'task'],
    'RegisterTaskDefinitionRequest.requiresCompatibilities': [
      'EC2',
      'EXTERNAL',
      'FARGATE',
      'MANAGED_INSTANCES'
    ],
    'LogConfiguration.logDriver': [
      'awsfirelens',
      'awslogs',
      'fluentd',
      'gelf',
      'journald',
      'json-file',
      'splunk',
      'syslog'
    ],
    'RuntimePlatform.cpuArchitecture': ['ARM64', 'X86_64'],
    'RuntimePlatform.operatingSystemFamily': [
      'LINUX',
      'WINDOWS_SERVER_2004_CORE',
      'WINDOWS_SERVER_2016_FULL',
      'WINDOWS_SERVER_2019_CORE',
      'WINDOWS_SERVER_2019_FULL',
      'WINDOWS_SERVER_2022_CORE',
      'WINDOWS_SERVER_2022_FULL',
      'WINDOWS_SERVER_2025_CORE',
      'WINDOWS_SERVER_2025_FULL',
      'WINDOWS_SERVER_20H2_CORE'
    ],
    'PortMapping.protocol': ['tcp', 'udp'],
    'PortMapping.appProtocol': ['grpc', 'http', 'http2'],
    'EnvironmentFile.type': ['s3'],
    'ContainerDependency.condition': ['COMPLETE', 'HEALTHY', 'START', 'SUCCESS']
  },
  describeOnly: [
    'taskDefinitionArn',
    'revision',
    'status',
    'requiresAttributes',
    'compatibilities',
    'registeredAt',
    'deregisteredAt',
    'deleteRequestedAt',
    'registeredBy'
  ]
}
